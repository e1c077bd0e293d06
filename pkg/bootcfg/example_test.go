package bootcfg_test

import (
	"fmt"

	"github.com/cuttleprint/cuttle/pkg/bootcfg"
)

// Editors add byte-order marks, CRLF and curly quotes; ParseWifi takes them
// in its stride and says what it corrected.
func ExampleParseWifi() {
	w, notes, err := bootcfg.ParseWifi([]byte("\ufeffssid=\u201cWorkshop\u201d\r\npassword=printer-net\r\ncountry=gb\r\n"))
	fmt.Println(w.SSID, w.Country, err)
	fmt.Println(notes[0])
	// Output:
	// Workshop GB <nil>
	// cuttle-wifi.txt line 1: removed curly quotes around the ssid
}
