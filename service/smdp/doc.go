// Package smdp is a mock-but-real SM-DP+ (GSMA SGP.22 Subscription Manager
// Data Preparation): it serves ES9+ to LPAs and ES2+ to operators, keeps its
// profile inventory, download orders, sessions and received notifications
// in SQLite, and performs the real cryptography (mutual authentication with
// the eUICC, BSP/SCP03t binding of the profile package). Faults injects
// errors for testing device software.
//
// # Inventory
//
// On first start (empty database) New generates Config.InventorySize
// profiles: ICCIDs Config.ICCIDPrefix + serial + Luhn digit (20 digits),
// IMSIs MCC/MNC (default 00101) + serial, SPN "Contoso Cellular", random Ki
// and OPc, each built into an unprotected profile package with saip.Build
// (about 12 KB). Keys exist only inside the stored package.
//
// # Order states
//
// The state machine lives in Transition (and nowhere else); the store
// applies it inside write transactions with a compare-and-set on the state:
//
//	available  -downloadOrder->            allocated | linked (with EID)
//	allocated, linked -confirmOrder->      confirmed | released (releaseFlag)
//	confirmed  -releaseProfile->           released
//	allocated..released -cancelOrder->     available (Available) | error (Unavailable)
//	released   -getBoundProfilePackage->   downloaded
//	downloaded -install result success->   installed   (also from released for a late result)
//	downloaded -install result error->     released    (retry with the same activation code)
//	downloaded -cancelSession / expiry->   released
//	released   -too many wrong CCs->       error
//
// # ES9+ behaviour and status codes (sgp22.md 3.3, 4.3, 5.4)
//
//	initiateAuthentication: smdpAddress missing 8.8.1/2.2, not ours
//	  (case-insensitive) 8.8.1/3.8; bad euiccChallenge/euiccInfo1 8.1/2.1;
//	  SVN major < 2 8.8.3/3.1; our CI not in euiccCiPKIdListForSigning
//	  8.8.2/3.1, not in ...ForVerification 8.8.4/3.7.
//	every later function: unknown, malformed, ended or expired transactionId,
//	  or a session in the wrong step, 8.10.1/3.9.
//	authenticateClient: EUM not issued by the session's CI, or chain to an
//	  unknown CI 8.11.1/3.9; EUM certificate invalid/expired 8.1.2/6.1, 6.3;
//	  eUICC certificate invalid (incl. EID outside the EUM range)/expired
//	  8.1.3/6.1, 6.3; euiccSignature1 or serverChallenge 8.1/6.1; signed
//	  serverAddress not ours 8.8.1/3.8; unknown matching ID (or none and no
//	  released order for the EID) 8.2.6/3.8; order bound to another EID
//	  8.1.1/3.8; order not released, already installed (download once) or
//	  cancelled 8.2.6/3.8; order blocked by confirmation code retries
//	  8.8.5/6.4; an authenticateResponseError from the eUICC 8.1/4.2.
//	getBoundProfilePackage: euiccSignature2 8.1/6.1; bad otPK 8.1/2.1;
//	  confirmation code required but absent 8.2.7/2.2, wrong 8.2.7/3.8 (the
//	  attempt is counted), the Config.MaxCCAttempts-th wrong one 8.2.7/6.4 and
//	  the order goes to error; the order taken meanwhile (another session
//	  got the package, or cancelled) 8.2/3.7; a downloadResponseError 8.1/4.2.
//	  Any of these ends the session. The BPP: BF23 with a random 16-byte
//	  hostId and a fresh otPK.DP signed with DPpb, session keys by ECKA with
//	  otPK.EUICC and the EID, ConfigureISDP (BF24) with the SM-DP+ OID,
//	  StoreMetadata (BF25, the same bytes as profileMetadata) with
//	  notifications for install/enable/disable/delete to Config.Address and
//	  the operator MCC/MNC, optionally ReplaceSessionKeys
//	  (Config.ReplaceSessionKeys), the package in 86 segments.
//	handleNotification: always HTTP 204. A ProfileInstallationResult is
//	  verified with the session's eUICC certificate (and its smdpOid); success
//	  installs the profile, an error result releases the order so that the
//	  same activation code works again. An OtherSignedNotification has its
//	  eUICC chain and signature verified and is logged. All are recorded
//	  (Server.Notifications), unverified ones marked as such.
//	cancelSession: euiccCancelSessionSignature 8.1/6.1 (an error response
//	  from the eUICC carries no signature and is refused the same way), other
//	  transactionId 8.10.1/3.9, smdpOid not ours 8.8/3.10; success ends the
//	  session and releases the order (retry works).
//
// Requests are accepted whatever their Content-Type and X-Admin-Protocol;
// answers carry application/json;charset=UTF-8 and X-Admin-Protocol. A
// malformed JSON body is HTTP 400, an oversized one (Config.MaxRequestBody)
// HTTP 413.
//
// A second authenticateClient for an order whose package went to the same
// eUICC in a session that never completed supersedes that session. Sessions
// expire after Config.SessionTTL; an expired session that had delivered the
// package releases its order. Ended sessions are kept 30 days, so that a
// late installation result can still be verified.
//
// # ES2+
//
// POST /gsma/rsp2/es2plus/{downloadOrder,confirmOrder,cancelOrder,
// releaseProfile} with the JSON of SGP.22 ES2+ (header as in ES9+). Callers
// must authenticate with a TLS client certificate (mutual TLS on the same
// listener: TLSConfig requests certificates with VerifyClientCertIfGiven so
// LPAs without one are unaffected, and each ES2+ request checks that the
// certificate verifies against Config.OperatorCAs with the clientAuth
// extended key usage; IssueOperatorCertificate makes one under the CI) or,
// alternatively, with Config.OperatorToken as a bearer token. Without either
// the answer is HTTP 401 with status 8.2.1/1.2. Codes: iccid missing
// 8.2.1/2.2, malformed 8.2.1/2.1, unknown 8.2.1/3.9, already ordered
// 8.2.1/3.3, not allowed in the profile's state 8.2.1/3.8, EID differing from
// the order's 8.2.1/3.10, malformed EID 8.1.1/2.1, malformed matchingId
// 8.2.6/2.1, matchingId used by another order 8.2.6/3.3, differing matchingId
// on cancel 8.2.6/3.10, profileType not matching the ICCID 8.2.5/3.10, no
// available profile 8.2.5/4.3. ConfirmOrder generates a matching ID when none
// is given; smdsAddress is stored but no SM-DS event is registered.
//
// # Logging
//
// Matching IDs are logged as their first four characters and an ellipsis,
// EIDs as their EUM prefix; confirmation codes (only their SHA-256 is
// stored) and keys are never logged.
package smdp
