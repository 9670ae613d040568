// Package discovery is the Mobile Plans Service of the bundled stack: the
// operator catalog the device agent asks which operators to offer, and the
// authenticated proxy to the operators' MO Web APIs (mobile-plans.md 1, 4,
// 5, 6).
//
// # Catalog
//
// Operators live in SQLite (schema migrations in code, PRAGMA
// user_version): brand, logo (PNG served by the service, or an external
// URL), portal URL, callback host, supported countries, ICCID ranges,
// EID and make/model filters, enhanced gateway templates (6.3; colours
// "0xRRGGBBAA", template "0" the default), COSA-like APN settings (6.4, 7)
// and the MO API base, offers and notifications URIs. A serving MCC to
// country table sits next to them. Requests are answered from an in-memory
// snapshot that is replaced after every write. Config.Seed adds Contoso
// Cellular (US, MCC 001 and 310-316), Fabrikam Mobile (GB, 234/235) and
// Northwind Telecom (DE, 262); Config.Overrides repoints them.
//
// # Matching
//
// The country is the serving MCC's (when known), else the country
// parameter, else the client address: Config.IPCountries (longest prefix),
// then Config.DefaultCountry for loopback, private and link-local
// addresses; otherwise 422 country_unknown. Operators of that country pass
// the EID filters (allow prefixes need an EID; deny prefixes) and make/model
// filters (allow lists need a make; deny lists), sorted by brand ignoring
// case (stable). Operators holding one of the device's ICCIDs in their
// ranges are flagged owned, with those ICCIDs.
//
// # HTTP API
//
//	GET /v1/operators?mcc=&country=&iccids=&eid=&make=&model=   OperatorList
//	GET /v1/operators/{id}                                      OperatorDetail
//	GET /v1/operators/{id}/logo                                 image/png (ETag)
//	GET /v1/operators/{id}/gateway?iccid=&imei=                 GatewaySelection
//	GET /v1/operators/{id}/apn?mccmnc=&iccid=                   APNResult
//	GET /v1/balance?iccid=&location=                            Balance
//	GET /healthz                                                {"status":"ok"}
//
// Errors are {"error":{"code":"...","message":"...","param":"..."}} with
// the Code constants; a bad parameter gives 400 bad_parameter naming it.
//
// # MO Web API
//
// Balance finds the operator owning the ICCID (most specific range) and
// calls GET {moBaseUrl}/sims/iccid:{ICCID}/balances?fieldsTemplate=basic
// &limit=1[&location=XX] with a fresh X-MS-DM-TransactionId over mutual TLS
// (Config.MOClientTLS: client certificate, server verified against its
// RootCAs; InsecureSkipVerify is refused). The gateway endpoint calls
// GetOffers ({offersUri}sims/iccid:{ICCID}/offers?limit=1&imei=) when the
// ICCID is the operator's and uses the returned template, else "0". MO
// answers map to: 400 -> 400 mo_bad_request, 401/403 -> 502
// mo_unauthorized/mo_forbidden, 404 -> 404 sim_not_found, 409 -> 409
// mo_conflict, 429 -> 429 mo_throttled with Retry-After, 5xx -> 502
// mo_error, timeout -> 504 mo_timeout, TLS failure -> 502 mo_tls_error.
//
// Client is the typed Go client of the API.
package discovery
