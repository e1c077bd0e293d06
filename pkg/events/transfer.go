package events

// TransferStarted: a file started streaming to the printer's SD card.
type TransferStarted Transfer

// Name returns "TransferStarted".
func (TransferStarted) Name() string { return "TransferStarted" }

// Payload returns the TransferStarted value.
func (e TransferStarted) Payload() any { return e }

// TransferDone: a file was written to the printer's SD card.
type TransferDone Transfer

// Name returns "TransferDone".
func (TransferDone) Name() string { return "TransferDone" }

// Payload returns the TransferDone value.
func (e TransferDone) Payload() any { return e }

// TransferFailed: writing a file to the printer's SD card failed or was
// cancelled.
type TransferFailed Transfer

// Name returns "TransferFailed".
func (TransferFailed) Name() string { return "TransferFailed" }

// Payload returns the TransferFailed value.
func (e TransferFailed) Payload() any { return e }

// Transfer is the payload of the Transfer* events.
type Transfer struct {
	// Local is the local file's path.
	Local string `json:"local"`
	// Remote is the name on the SD card.
	Remote string `json:"remote"`
	// Time is the duration in seconds (TransferDone only).
	Time float64 `json:"time,omitempty"`
}
