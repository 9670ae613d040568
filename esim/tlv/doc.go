// Package tlv encodes and decodes BER-TLV as used by GSMA SGP.22 (ES10 and
// ES9+ messages) and ISO 7816-4: multi-byte tags (up to 4 bytes) and definite
// lengths in short or long form (up to 4 length bytes). Indefinite lengths,
// truncated input and values larger than MaxLen are refused with typed errors,
// so a parser of outside input never panics or allocates without bound.
package tlv
