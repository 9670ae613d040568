package discovery

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
)

// catalog is an immutable snapshot of the store used to answer requests;
// the Service swaps in a new one after every write.
type catalog struct {
	ops       []Operator // sorted by brand (case-insensitive), ties by id
	byID      map[string]int
	byCountry map[string][]int  // country -> indexes into ops, in ops order
	logoETag  map[string]string // id -> strong ETag of the stored logo
	mcc       map[string]string // MCC -> country
}

func newCatalog(ops []Operator, mcc map[string]string) *catalog {
	c := &catalog{
		ops:       slices.Clone(ops),
		byID:      make(map[string]int, len(ops)),
		byCountry: make(map[string][]int),
		logoETag:  make(map[string]string),
		mcc:       mcc,
	}
	// Stable on the id order the store returns, so equal brands (ignoring
	// case) keep a deterministic order.
	slices.SortStableFunc(c.ops, func(a, b Operator) int {
		return cmp.Compare(strings.ToLower(a.Brand), strings.ToLower(b.Brand))
	})
	for i, op := range c.ops {
		c.byID[op.ID] = i
		for _, country := range op.Countries {
			c.byCountry[country] = append(c.byCountry[country], i)
		}
		if len(op.Logo) > 0 {
			sum := sha256.Sum256(op.Logo)
			c.logoETag[op.ID] = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
	}
	return c
}

func (c *catalog) operator(id string) (*Operator, bool) {
	i, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	return &c.ops[i], true
}

// matched is one operator of a lookup answer.
type matched struct {
	op    *Operator
	owned []string // the device's ICCIDs in the operator's ranges
}

// match returns the operators offered in country to the device described
// by q, in catalog (brand) order.
func (c *catalog) match(q Query, country string) []matched {
	var out []matched
	for _, i := range c.byCountry[country] {
		op := &c.ops[i]
		if !deviceAllowed(op, q) {
			continue
		}
		m := matched{op: op}
		for _, iccid := range q.ICCIDs {
			if inRanges(op.ICCIDRanges, iccid) {
				m.owned = append(m.owned, iccid)
			}
		}
		out = append(out, m)
	}
	return out
}

// deviceAllowed applies the EID and make/model filters. An allow list
// needs the corresponding device value; a deny list without it does not
// apply.
func deviceAllowed(op *Operator, q Query) bool {
	if len(op.EIDAllow) > 0 && !hasAnyPrefix(q.EID, op.EIDAllow) {
		return false
	}
	if q.EID != "" && hasAnyPrefix(q.EID, op.EIDDeny) {
		return false
	}
	if len(op.DeviceAllow) > 0 && !slices.ContainsFunc(op.DeviceAllow, func(f DeviceFilter) bool { return f.Matches(q.Make, q.Model) }) {
		return false
	}
	if slices.ContainsFunc(op.DeviceDeny, func(f DeviceFilter) bool { return f.Matches(q.Make, q.Model) }) {
		return false
	}
	return true
}

func hasAnyPrefix(s string, prefixes []string) bool {
	if s == "" {
		return false
	}
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

func inRanges(rs []ICCIDRange, iccid string) bool {
	return slices.ContainsFunc(rs, func(r ICCIDRange) bool { return r.Contains(iccid) })
}

// owner returns the operator whose ICCID range holds iccid; with
// overlapping ranges the most specific range wins, then catalog order.
func (c *catalog) owner(iccid string) (*Operator, bool) {
	var best *Operator
	bestSpec := -1
	for i := range c.ops {
		op := &c.ops[i]
		for _, r := range op.ICCIDRanges {
			if r.Contains(iccid) && r.specificity() > bestSpec {
				best, bestSpec = op, r.specificity()
			}
		}
	}
	return best, best != nil
}

// Country sources reported in OperatorList.CountrySource.
const (
	CountryFromMCC     = "mcc"
	CountryFromQuery   = "query"
	CountryFromIP      = "ip"
	CountryFromDefault = "default"
)

// IPCountry maps a client address prefix to a country for the reverse-IP
// fallback.
type IPCountry struct {
	Prefix  netip.Prefix
	Country string
}

// ipTable is a longest-prefix-first list of IPCountry entries.
type ipTable []IPCountry

func newIPTable(entries []IPCountry) (ipTable, error) {
	t := make(ipTable, 0, len(entries))
	for i, e := range entries {
		c := strings.ToUpper(e.Country)
		if !e.Prefix.IsValid() {
			return nil, fieldErr("IPCountries", "entry %d has no valid prefix", i)
		}
		if !validCountry(c) {
			return nil, fieldErr("IPCountries", "entry %d: %q is not an ISO 3166 alpha-2 code", i, e.Country)
		}
		p := e.Prefix.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		t = append(t, IPCountry{Prefix: p, Country: c})
	}
	slices.SortStableFunc(t, func(a, b IPCountry) int { return cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()) })
	return t, nil
}

func (t ipTable) lookup(a netip.Addr) (string, bool) {
	a = a.Unmap()
	for _, e := range t {
		if e.Prefix.Contains(a) {
			return e.Country, true
		}
	}
	return "", false
}

// localAddr reports addresses that carry no location: loopback, private,
// link-local, unspecified.
func localAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}
