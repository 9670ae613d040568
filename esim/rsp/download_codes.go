// Error codes and enumerations of the profile download (sgp22.md 2.1,
// 2.3, 2.4 and 2.5).

package rsp

import "strconv"

func unknownName(v int) string { return "unknown(" + strconv.Itoa(v) + ")" }

// AuthenticateErrorCode is the error of ES10b.AuthenticateServer.
type AuthenticateErrorCode int

// AuthenticateErrorCode values.
const (
	AuthenticateInvalidCertificate     AuthenticateErrorCode = 1   // invalidCertificate
	AuthenticateInvalidSignature       AuthenticateErrorCode = 2   // invalidSignature
	AuthenticateUnsupportedCurve       AuthenticateErrorCode = 3   // unsupportedCurve
	AuthenticateNoSessionContext       AuthenticateErrorCode = 4   // noSessionContext
	AuthenticateInvalidOID             AuthenticateErrorCode = 5   // invalidOid
	AuthenticateEUICCChallengeMismatch AuthenticateErrorCode = 6   // euiccChallengeMismatch
	AuthenticateCIPKUnknown            AuthenticateErrorCode = 7   // ciPKUnknown
	AuthenticateUndefinedError         AuthenticateErrorCode = 127 // undefinedError
)

// String returns the SGP.22 name of c, or "unknown(N)".
func (c AuthenticateErrorCode) String() string {
	switch c {
	case AuthenticateInvalidCertificate:
		return "invalidCertificate"
	case AuthenticateInvalidSignature:
		return "invalidSignature"
	case AuthenticateUnsupportedCurve:
		return "unsupportedCurve"
	case AuthenticateNoSessionContext:
		return "noSessionContext"
	case AuthenticateInvalidOID:
		return "invalidOid"
	case AuthenticateEUICCChallengeMismatch:
		return "euiccChallengeMismatch"
	case AuthenticateCIPKUnknown:
		return "ciPKUnknown"
	case AuthenticateUndefinedError:
		return "undefinedError"
	}
	return unknownName(int(c))
}

// DownloadErrorCode is the error of ES10b.PrepareDownload.
type DownloadErrorCode int

// DownloadErrorCode values.
const (
	DownloadInvalidCertificate   DownloadErrorCode = 1   // invalidCertificate
	DownloadInvalidSignature     DownloadErrorCode = 2   // invalidSignature
	DownloadUnsupportedCurve     DownloadErrorCode = 3   // unsupportedCurve
	DownloadNoSessionContext     DownloadErrorCode = 4   // noSessionContext
	DownloadInvalidTransactionID DownloadErrorCode = 5   // invalidTransactionId
	DownloadUndefinedError       DownloadErrorCode = 127 // undefinedError
)

// String returns the SGP.22 name of c, or "unknown(N)".
func (c DownloadErrorCode) String() string {
	switch c {
	case DownloadInvalidCertificate:
		return "invalidCertificate"
	case DownloadInvalidSignature:
		return "invalidSignature"
	case DownloadUnsupportedCurve:
		return "unsupportedCurve"
	case DownloadNoSessionContext:
		return "noSessionContext"
	case DownloadInvalidTransactionID:
		return "invalidTransactionId"
	case DownloadUndefinedError:
		return "undefinedError"
	}
	return unknownName(int(c))
}

// BPPCommandID names the step of a Bound Profile Package that failed.
type BPPCommandID int

// BPPCommandID values.
const (
	BPPInitialiseSecureChannel BPPCommandID = 0 // initialiseSecureChannel
	BPPConfigureISDP           BPPCommandID = 1 // configureISDP
	BPPStoreMetadata           BPPCommandID = 2 // storeMetadata
	BPPStoreMetadata2          BPPCommandID = 3 // storeMetadata2
	BPPReplaceSessionKeys      BPPCommandID = 4 // replaceSessionKeys
	BPPLoadProfileElements     BPPCommandID = 5 // loadProfileElements
)

// String returns the SGP.22 name of c, or "unknown(N)".
func (c BPPCommandID) String() string {
	switch c {
	case BPPInitialiseSecureChannel:
		return "initialiseSecureChannel"
	case BPPConfigureISDP:
		return "configureISDP"
	case BPPStoreMetadata:
		return "storeMetadata"
	case BPPStoreMetadata2:
		return "storeMetadata2"
	case BPPReplaceSessionKeys:
		return "replaceSessionKeys"
	case BPPLoadProfileElements:
		return "loadProfileElements"
	}
	return unknownName(int(c))
}

// InstallErrorReason is the errorReason of a failed profile installation.
type InstallErrorReason int

// InstallErrorReason values.
const (
	InstallIncorrectInputValues                InstallErrorReason = 1   // incorrectInputValues
	InstallInvalidSignature                    InstallErrorReason = 2   // invalidSignature
	InstallInvalidTransactionID                InstallErrorReason = 3   // invalidTransactionId
	InstallUnsupportedCRTValues                InstallErrorReason = 4   // unsupportedCrtValues
	InstallUnsupportedRemoteOperationType      InstallErrorReason = 5   // unsupportedRemoteOperationType
	InstallUnsupportedProfileClass             InstallErrorReason = 6   // unsupportedProfileClass
	InstallSCP03tStructureError                InstallErrorReason = 7   // scp03tStructureError
	InstallSCP03tSecurityError                 InstallErrorReason = 8   // scp03tSecurityError
	InstallICCIDAlreadyExistsOnEUICC           InstallErrorReason = 9   // installFailedDueToIccidAlreadyExistsOnEuicc
	InstallInsufficientMemoryForProfile        InstallErrorReason = 10  // installFailedDueToInsufficientMemoryForProfile
	InstallInterruption                        InstallErrorReason = 11  // installFailedDueToInterruption
	InstallPEProcessingError                   InstallErrorReason = 12  // installFailedDueToPEProcessingError
	InstallDataMismatch                        InstallErrorReason = 13  // installFailedDueToDataMismatch
	InstallTestProfileInvalidNAAKey            InstallErrorReason = 14  // testProfileInstallFailedDueToInvalidNaaKey
	InstallPPRNotAllowed                       InstallErrorReason = 15  // pprNotAllowed
	InstallInsufficientMinimumSecurityLevel    InstallErrorReason = 31  // insufficientMinimumSecurityLevel
	InstallServerAddressAbsentInEUICCAllowList InstallErrorReason = 32  // serverAddressAbsentInEuiccAllowList
	InstallUnknownError                        InstallErrorReason = 127 // installFailedDueToUnknownError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r InstallErrorReason) String() string {
	switch r {
	case InstallIncorrectInputValues:
		return "incorrectInputValues"
	case InstallInvalidSignature:
		return "invalidSignature"
	case InstallInvalidTransactionID:
		return "invalidTransactionId"
	case InstallUnsupportedCRTValues:
		return "unsupportedCrtValues"
	case InstallUnsupportedRemoteOperationType:
		return "unsupportedRemoteOperationType"
	case InstallUnsupportedProfileClass:
		return "unsupportedProfileClass"
	case InstallSCP03tStructureError:
		return "scp03tStructureError"
	case InstallSCP03tSecurityError:
		return "scp03tSecurityError"
	case InstallICCIDAlreadyExistsOnEUICC:
		return "installFailedDueToIccidAlreadyExistsOnEuicc"
	case InstallInsufficientMemoryForProfile:
		return "installFailedDueToInsufficientMemoryForProfile"
	case InstallInterruption:
		return "installFailedDueToInterruption"
	case InstallPEProcessingError:
		return "installFailedDueToPEProcessingError"
	case InstallDataMismatch:
		return "installFailedDueToDataMismatch"
	case InstallTestProfileInvalidNAAKey:
		return "testProfileInstallFailedDueToInvalidNaaKey"
	case InstallPPRNotAllowed:
		return "pprNotAllowed"
	case InstallInsufficientMinimumSecurityLevel:
		return "insufficientMinimumSecurityLevel"
	case InstallServerAddressAbsentInEUICCAllowList:
		return "serverAddressAbsentInEuiccAllowList"
	case InstallUnknownError:
		return "installFailedDueToUnknownError"
	}
	return unknownName(int(r))
}

// CancelSessionReason is why the LPA cancels a download session.
type CancelSessionReason int

// CancelSessionReason values.
const (
	CancelEndUserRejection      CancelSessionReason = 0   // endUserRejection
	CancelPostponed             CancelSessionReason = 1   // postponed
	CancelTimeout               CancelSessionReason = 2   // timeout
	CancelPPRNotAllowed         CancelSessionReason = 3   // pprNotAllowed
	CancelMetadataMismatch      CancelSessionReason = 4   // metadataMismatch
	CancelLoadBPPExecutionError CancelSessionReason = 5   // loadBppExecutionError
	CancelUndefinedReason       CancelSessionReason = 127 // undefinedReason
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r CancelSessionReason) String() string {
	switch r {
	case CancelEndUserRejection:
		return "endUserRejection"
	case CancelPostponed:
		return "postponed"
	case CancelTimeout:
		return "timeout"
	case CancelPPRNotAllowed:
		return "pprNotAllowed"
	case CancelMetadataMismatch:
		return "metadataMismatch"
	case CancelLoadBPPExecutionError:
		return "loadBppExecutionError"
	case CancelUndefinedReason:
		return "undefinedReason"
	}
	return unknownName(int(r))
}

// CancelSessionErrorCode is the error of ES10b.CancelSession.
type CancelSessionErrorCode int

// CancelSessionErrorCode values.
const (
	CancelSessionInvalidTransactionID CancelSessionErrorCode = 5   // invalidTransactionId
	CancelSessionUndefinedError       CancelSessionErrorCode = 127 // undefinedError
)

// String returns the SGP.22 name of c, or "unknown(N)".
func (c CancelSessionErrorCode) String() string {
	switch c {
	case CancelSessionInvalidTransactionID:
		return "invalidTransactionId"
	case CancelSessionUndefinedError:
		return "undefinedError"
	}
	return unknownName(int(c))
}
