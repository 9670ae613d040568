package desktop

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
	"github.com/mobileplans/mobileplans/modem/backend"
)

// message is a failure in plain words: what happened and what to do.
type message struct {
	Title, What, Do string
}

// explain turns an error into words for people. The technical error goes
// to the diagnostics log, not here.
func explain(err error) message {
	var se *launch.SettingsError
	switch {
	case err == nil:
		return message{}
	case errors.As(err, &se):
		return message{"Check the settings", se.Reason + ".", "Open Settings, correct it and press Apply."}
	case errors.Is(err, backend.ErrNoModem), errors.Is(err, app.ErrModem):
		return message{"No cellular modem found",
			"This computer's modem did not answer.",
			"Make sure airplane mode is off and the modem is switched on, then try again. On Linux, check that ModemManager runs, or pick the modem's port in Settings."}
	case errors.Is(err, app.ErrLPAInit):
		return message{"The eSIM did not answer",
			"The modem is there, but its eSIM (eUICC) could not be reached.",
			"Restart the modem (or the computer) and try again. If it keeps happening, export the APDU trace from Diagnostics for the device maker."}
	case errors.Is(err, app.ErrBusy):
		return message{"Please wait", "Another profile operation is still running.", "Wait for it to finish, then try again."}
	case errors.Is(err, app.ErrInvalidActivationCode):
		return message{"That is not an activation code",
			"An eSIM activation code looks like LPA:1$smdp.example.com$CODE.",
			"Check the code your operator gave you, or scan its QR code image."}
	case errors.Is(err, app.ErrProfileEnabled):
		return message{"This plan is in use", "The profile you picked is the one in use.", "Switch to another profile first."}
	case errors.Is(err, context.Canceled):
		return message{"Cancelled", "The operation was cancelled.", "Nothing was changed. You can start again at any time."}
	case errors.Is(err, errNoSession):
		return message{"Not connected yet", "The app is still looking for the modem.", "Wait a moment, or check Settings."}
	}
	_, status := app.Classify(err)
	return explainStatus(status)
}

// explainStatus explains a failed download's ESimOperationStatus.
func explainStatus(s app.OperationStatus) message {
	switch s {
	case app.StatusServerNotReachable, app.StatusTimeoutWaitingForResponse:
		return message{"Can't reach the operator", "The operator's server did not answer.",
			"Check your internet connection and try again. Your plan is kept: nothing was installed."}
	case app.StatusServerFailure:
		return message{"The operator's server had a problem", "The download could not be completed.",
			"Try again in a few minutes. Nothing was installed."}
	case app.StatusServerNotTrusted:
		return message{"The operator's server is not trusted", "Its certificate could not be verified, so the download was stopped.",
			"Contact the operator. If you are testing, add the test CA in Settings."}
	case app.StatusInsufficientSpaceOnCard:
		return message{"The eSIM is full", "There is no room for another profile.",
			"Delete a profile you no longer use (Profiles), then try again."}
	case app.StatusIncorrectConfirmationCode, app.StatusConfirmationCodeMissing:
		return message{"Confirmation code needed", "The operator asked for a confirmation code that was missing or wrong.",
			"Check the code the operator sent you and try again."}
	case app.StatusConfirmationCodeMaxRetriesExceeded:
		return message{"Too many wrong confirmation codes", "The operator locked this plan.", "Contact the operator for a new one."}
	case app.StatusInvalidMatchingID, app.StatusNotFound, app.StatusNoCorrespondingRequest:
		return message{"The operator does not know this plan", "The activation code is not (or no longer) valid.",
			"Buy the plan again, or ask the operator for a new activation code."}
	case app.StatusEIDMismatch, app.StatusNoEligibleProfileForThisDevice, app.StatusPolicyViolation:
		return message{"This plan is not for this device", "The operator's profile cannot be installed on this eSIM.",
			"Contact the operator with the EID shown on the Get a plan page."}
	case app.StatusProfileNotAvailableForNewBinding, app.StatusProfileNotReleasedByOperator:
		return message{"The plan was already downloaded", "The operator's profile was already used or is not released yet.",
			"Contact the operator."}
	case app.StatusIccidAlreadyExists:
		return message{"The profile is already on this eSIM", "There is nothing to download.", "See Profiles."}
	case app.StatusCardBusy, app.StatusCardRemoved, app.StatusCardGeneralFailure:
		return message{"The eSIM did not answer", "The download was stopped and nothing was installed.",
			"Try again. If it keeps happening, restart the modem."}
	case app.StatusOperationAborted:
		return message{"Cancelled", "The download was cancelled; nothing was installed.", "You can start again at any time."}
	case app.StatusProfileDownloadMaxRetriesExceeded:
		return message{"The download kept failing", "Several attempts did not succeed; nothing was installed.",
			"Check your connection and try again later."}
	case app.StatusProfileNotPresent:
		return message{"No such profile", "The profile is not on the eSIM.", "See Profiles."}
	}
	return message{"Something went wrong", "The operation did not complete.",
		"Try again. If it keeps happening, Diagnostics has the details."}
}

// messageView shows a message.
func messageView(m message) fyne.CanvasObject {
	return container.NewVBox(heading(m.Title), label(m.What), label(m.Do))
}

func newMessageDialog(w fyne.Window, title string, m message) dialog.Dialog {
	content := container.NewVBox(widget.NewLabelWithStyle(m.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		label(m.What), label(m.Do))
	return dialog.NewCustom(title, "Close", content, w)
}
