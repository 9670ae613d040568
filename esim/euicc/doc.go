// Package euicc is a simulated eUICC for tests and for the bundled
// simulated modem (modem/sim). Its ISD-R answers ES10a/b/c commands that
// arrive as command APDUs: the ISO 7816-4 layer (logical channels, SELECT,
// GET RESPONSE) and the GlobalPlatform STORE DATA chaining of SGP.22 §2.5.x
// are emulated, and each reassembled ES10 request is decoded with esim/rsp.
//
// The card keeps a profile store (EID, credentials, profiles with their
// metadata, pending notifications, configured addresses) in a versioned
// JSON state file. Every change is written atomically (temporary file in the
// same directory, fsync, rename, directory fsync) before the command's
// response is returned; a failed write leaves the in-memory state untouched
// and the command reports an error. A state file that cannot be parsed is
// refused, never overwritten.
//
// Enable, disable and delete operations create signed notifications
// (OtherSignedNotification, ECDSA P-256 with the card key, r||s format) when
// the profile's metadata asks for them. When no credentials are supplied the
// card generates a self-contained test chain (a self-signed test EUM and an
// eUICC certificate whose subject serialNumber is the EID).
//
// Profile download (SGP.22 common mutual authentication and
// LoadBoundProfilePackage) needs trusted CI certificates: Options.Issuer
// supplies them (persisted in the state) and certifies the card's key under
// its EUM. AuthenticateServer and PrepareDownload verify the SM-DP+
// certificates (esim/pki) and signatures; the Bound Profile Package is
// unwrapped with esim/bsp and its profile package parsed with esim/saip as
// the segments arrive. The profile and its install notification are
// committed in one state write only after the whole package has been
// verified and parsed, so a card reset, a cancelled session or a crash in
// the middle of a load leaves no trace of the profile. Every failure is
// answered with a signed ProfileInstallationResult that is also kept as a
// pending notification.
package euicc
