package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
)

// Role is the SGP.22 function a certificate is issued for, identified by
// its certificate policy OID (id-rspRole, 2.23.146.1.2.1).
type Role int

// The roles of the SGP.22 consumer RSP PKI. The zero Role is invalid.
const (
	RoleCI     Role = iota + 1 // id-rspRole-ci      2.23.146.1.2.1.0
	RoleEUM                    // id-rspRole-eum     2.23.146.1.2.1.2
	RoleEUICC                  // id-rspRole-euicc   2.23.146.1.2.1.1
	RoleDPauth                 // id-rspRole-dp-auth 2.23.146.1.2.1.4
	RoleDPpb                   // id-rspRole-dp-pb   2.23.146.1.2.1.5
	RoleDPtls                  // id-rspRole-dp-tls  2.23.146.1.2.1.3
)

// String returns the SGP.22 name of the role.
func (r Role) String() string {
	switch r {
	case RoleCI:
		return "CI"
	case RoleEUM:
		return "EUM"
	case RoleEUICC:
		return "eUICC"
	case RoleDPauth:
		return "DPauth"
	case RoleDPpb:
		return "DPpb"
	case RoleDPtls:
		return "DPtls"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

func (r Role) valid() bool { return r >= RoleCI && r <= RoleDPtls }

// rspRoleArc is id-rspRole.
func rspRoleOID(last ...int) asn1.ObjectIdentifier {
	return append(asn1.ObjectIdentifier{2, 23, 146, 1, 2, 1}, last...)
}

// PolicyOID returns the certificate policy OID that Generate puts into
// certificates of this role, or nil for an invalid role.
func (r Role) PolicyOID() asn1.ObjectIdentifier {
	switch r {
	case RoleCI:
		return rspRoleOID(0)
	case RoleEUICC:
		return rspRoleOID(1)
	case RoleEUM:
		return rspRoleOID(2)
	case RoleDPtls:
		return rspRoleOID(3)
	case RoleDPauth:
		return rspRoleOID(4)
	case RoleDPpb:
		return rspRoleOID(5)
	}
	return nil
}

// acceptedPolicies are the policy OIDs that qualify a certificate for the
// role: PolicyOID, and for the EUM also the newer variant 2.23.146.1.2.1.0.0.0
// used together with the permittedEins extension.
func (r Role) acceptedPolicies() []asn1.ObjectIdentifier {
	p := r.PolicyOID()
	if p == nil {
		return nil
	}
	out := []asn1.ObjectIdentifier{p}
	if r == RoleEUM {
		out = append(out, rspRoleOID(0, 0, 0))
	}
	return out
}

// HasRole reports whether cert carries one of the policy OIDs of role.
func HasRole(cert *x509.Certificate, role Role) bool {
	accepted := role.acceptedPolicies()
	for _, p := range cert.Policies {
		if slices.ContainsFunc(accepted, p.EqualASN1OID) {
			return true
		}
	}
	return false
}
