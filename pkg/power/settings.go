package power

// PSUControlSettings returns the power config in the shape of the PSU
// Control plugin's settings, for GET /api/settings under
// plugins.psucontrol: clients that know the plugin read its switching
// method, pins, delays and idle options from there. cuttle's own names stay
// in the power block.
func (c Config) PSUControlSettings() map[string]any {
	out := map[string]any{
		"switchingMethod":             "GPIO",
		"onoffGPIOPin":                "",
		"invertonoffGPIOPin":          false,
		"sensingMethod":               "INTERNAL",
		"senseGPIOPin":                "",
		"invertsenseGPIOPin":          false,
		"enablePseudoOnOff":           c.Policy.M80 != GcodeSend || c.Policy.M81 != GcodeSend,
		"pseudoOnGCodeCommand":        "M80",
		"pseudoOffGCodeCommand":       "M81",
		"postOnDelay":                 c.Policy.SettleTime.Seconds(),
		"connectOnPowerOn":            false,
		"autoOn":                      c.Policy.OnBeforePrint,
		"enablePowerOffWarningDialog": c.Policy.IdleWarning > 0,
		"powerOffWhenIdle":            c.Policy.IdleOff > 0,
		"idleTimeout":                 c.Policy.IdleOff.Minutes(),
		"idleTimeoutWaitTemp":         c.Policy.IdleThreshold,
		"turnOnWhenApiUploadPrint":    c.Policy.OnBeforePrint,
	}
	for _, r := range c.Relays {
		if r.Name != c.Policy.PSU {
			continue
		}
		out["onoffGPIOPin"] = r.Pin
		out["invertonoffGPIOPin"] = r.ActiveLow
		if r.SensePin != "" {
			out["sensingMethod"] = "GPIO"
			out["senseGPIOPin"] = r.SensePin
			out["invertsenseGPIOPin"] = r.SenseInverted
		}
	}
	return out
}
