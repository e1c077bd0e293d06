package printer

// State is the Machine's connection and job state.
type State int

// The states, in OctoPrint's vocabulary.
const (
	StateOffline State = iota
	StateOpening
	StateDetecting
	StateConnecting
	StateOperational
	StatePrinting
	StatePausing
	StatePaused
	StateResuming
	StateCancelling
	StateFinishing
	StateError
	StateOfflineAfterError
)

var stateTexts = [...]string{
	StateOffline:           "Offline",
	StateOpening:           "Opening serial connection",
	StateDetecting:         "Detecting serial connection",
	StateConnecting:        "Connecting",
	StateOperational:       "Operational",
	StatePrinting:          "Printing",
	StatePausing:           "Pausing",
	StatePaused:            "Paused",
	StateResuming:          "Resuming",
	StateCancelling:        "Cancelling",
	StateFinishing:         "Finishing",
	StateError:             "Error",
	StateOfflineAfterError: "Offline after error",
}

var stateIDs = [...]string{
	StateOffline:           "OFFLINE",
	StateOpening:           "OPEN_SERIAL",
	StateDetecting:         "DETECT_SERIAL",
	StateConnecting:        "CONNECTING",
	StateOperational:       "OPERATIONAL",
	StatePrinting:          "PRINTING",
	StatePausing:           "PAUSING",
	StatePaused:            "PAUSED",
	StateResuming:          "RESUMING",
	StateCancelling:        "CANCELLING",
	StateFinishing:         "FINISHING",
	StateError:             "ERROR",
	StateOfflineAfterError: "CLOSED_WITH_ERROR",
}

// String returns OctoPrint's text for the state ("Operational"); for
// StateError it is "Error" without the detail (see Snapshot.StateText).
func (s State) String() string {
	if s < 0 || int(s) >= len(stateTexts) {
		return "Unknown State"
	}
	return stateTexts[s]
}

// ID returns OctoPrint's state_id ("OPERATIONAL", "CLOSED_WITH_ERROR").
func (s State) ID() string {
	if s < 0 || int(s) >= len(stateIDs) {
		return "UNKNOWN"
	}
	return stateIDs[s]
}

// Operational reports whether commands can be sent in this state.
func (s State) Operational() bool { return s >= StateOperational && s <= StateFinishing }

// Flags are OctoPrint's eleven state flags.
type Flags struct {
	Operational   bool `json:"operational"`
	Printing      bool `json:"printing"`
	Cancelling    bool `json:"cancelling"`
	Pausing       bool `json:"pausing"`
	Resuming      bool `json:"resuming"`
	Finishing     bool `json:"finishing"`
	ClosedOrError bool `json:"closedOrError"`
	Error         bool `json:"error"`
	Paused        bool `json:"paused"`
	Ready         bool `json:"ready"`
	SDReady       bool `json:"sdReady"`
}

// flags computes the flags for state s.
func flags(s State, sdReady bool) Flags {
	op := s.Operational()
	return Flags{
		Operational:   op,
		Printing:      s == StatePrinting,
		Cancelling:    s == StateCancelling,
		Pausing:       s == StatePausing,
		Resuming:      s == StateResuming,
		Finishing:     s == StateFinishing,
		ClosedOrError: s == StateOffline || s == StateError || s == StateOfflineAfterError,
		Error:         s == StateError || s == StateOfflineAfterError,
		Paused:        s == StatePaused,
		Ready:         op,
		SDReady:       op && sdReady,
	}
}
