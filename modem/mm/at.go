package mm

import (
	"context"
	"fmt"
	"strings"

	"github.com/mobileplans/mobileplans/modem/at"
)

// Command sends one raw AT command to the modem and returns its
// information lines with Final "OK" (ModemManager does not relay the
// final result code: a modem's ERROR or +CME ERROR comes back as an
// *Error).
//
// It goes through Modem.Command, which ModemManager only allows when it
// runs with --debug. Refused there (Core.Unauthorized), and unless Access
// is AccessCommand, it has ModemManager inhibit the device and sends the
// command on the modem's own AT port, as OpenChannel does; the device then
// stays inhibited until Release, Close or an operation that needs
// ModemManager. While the device is inhibited every command goes to the
// AT port. The command's deadline is APDUTimeout (in whole seconds for
// ModemManager).
func (m *Modem) Command(ctx context.Context, cmd string) (at.Response, error) {
	cmd = strings.TrimSpace(cmd)
	if !strings.HasPrefix(strings.ToUpper(cmd), "AT") {
		return at.Response{}, fmt.Errorf("mm: %q is not an AT command", commandName(cmd))
	}
	m.accessMu.Lock()
	defer m.accessMu.Unlock()
	select {
	case <-m.done:
		return at.Response{}, ErrClosed
	default:
	}
	if m.session == nil && m.opts.Access != AccessInhibit && m.cmdErr == nil {
		v, err := m.present(ctx)
		if err != nil {
			return at.Response{}, fmt.Errorf("mm: %s: %w", commandName(cmd), err)
		}
		lines, err := m.command(ctx, v, cmd)
		if err == nil {
			return at.Response{Lines: lines, Final: "OK"}, nil
		}
		e, ok := asError(err)
		if !ok || !e.Unauthorized() {
			return at.Response{}, err
		}
		if m.opts.Access == AccessCommand {
			return at.Response{}, fmt.Errorf("%w (ModemManager allows Modem.Command only when it runs with --debug)", err)
		}
		m.log.Info("mm: ModemManager refuses Modem.Command; inhibiting the device to use its AT port", "err", err)
		m.cmdErr = err
	}
	if m.session == nil {
		s, err := m.startSession(ctx)
		if err != nil {
			return at.Response{}, &NoAPDUAccessError{Command: m.cmdErr, Inhibit: err}
		}
		m.session = s
	}
	return m.session.at.Command(ctx, cmd)
}
