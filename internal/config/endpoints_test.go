package config

import "testing"

func TestIsAPIGatewayPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/restapis": true, "/restapis/abc/stages": true, "/RestApis/x": true, "/TAGS": true, "restapis": true,
		"/": false, "": false, "/restapi": false, "/tagsx": false, "/Execute": false,
		"/ſdktypes": false, // U+017F folds to 's' but does not lower-case to it
		"/tagſ":     false,
	} {
		if got := IsAPIGatewayPath(path); got != want {
			t.Errorf("IsAPIGatewayPath(%q) = %v, want %v", path, got, want)
		}
	}
}
