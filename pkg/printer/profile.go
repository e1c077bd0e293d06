package printer

// Profile is the part of a printer profile the Machine needs.
type Profile struct {
	ID            string
	Name          string
	HeatedBed     bool
	HeatedChamber bool
	// Extruders is the number of tools (at least 1).
	Extruders int
	// SpeedXY, SpeedZ and SpeedE are the default manual feed rates in mm/min.
	SpeedXY, SpeedZ, SpeedE float64
}

// DefaultProfile is OctoPrint's "_default" profile: one extruder, a heated
// bed, no chamber, 6000/200/300 mm/min.
func DefaultProfile() Profile {
	return Profile{ID: "_default", Name: "Default", HeatedBed: true, Extruders: 1, SpeedXY: 6000, SpeedZ: 200, SpeedE: 300}
}
