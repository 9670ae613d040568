package portalwin

import (
	"context"
	"errors"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/ui/desktop"
)

func (op *Opener) openWebKit(ctx context.Context, req app.PortalRequest) (desktop.PortalWindow, error) {
	return nil, errors.New("webkit: not wired yet")
}
