package design

import (
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cuttleprint/cuttle/"

// graph returns, for every package of the module, the module packages it
// imports (test files excluded), by path relative to the module root.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	g := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], module)
		g[pkg] = []string{}
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module) {
				g[pkg] = append(g[pkg], strings.TrimPrefix(imp, module))
			}
		}
	}
	return g
}

// under reports whether pkg is root or inside it.
func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// layer ranks packages: a package may import only packages of a lower rank
// (or its own subpackages and test helpers).
func layer(pkg string) int {
	switch {
	case under(pkg, "cmd"):
		return 4
	case under(pkg, "pkg/api"), under(pkg, "pkg/push"), under(pkg, "pkg/web"):
		return 3
	case under(pkg, "pkg/protocol"), under(pkg, "pkg/gcode"), under(pkg, "pkg/serial"),
		under(pkg, "pkg/store"), under(pkg, "pkg/events"), under(pkg, "pkg/version"),
		under(pkg, "pkg/sdnotify"), under(pkg, "pkg/virtualprinter"), under(pkg, "pkg/threadprio"):
		return 1
	case under(pkg, "pkg/design"):
		return 0
	default: // the domain packages: auth, printer, job, files, power, settings, ...
		return 2
	}
}

func TestDoorsOpenOneWay(t *testing.T) {
	g := graph(t)
	if len(g) < 10 {
		t.Fatalf("go list found only %d packages", len(g))
	}
	forbid := func(from, to, why string) {
		for pkg, imps := range g {
			if !under(pkg, from) {
				continue
			}
			for _, imp := range imps {
				if under(imp, to) {
					t.Errorf("%s imports %s: %s", pkg, imp, why)
				}
			}
		}
	}
	// The shut doors of DESIGN.md, one by one.
	for _, p := range []string{"pkg/printer", "pkg/files", "pkg/events", "pkg/api", "pkg/job", "pkg/push"} {
		forbid("pkg/protocol", p, "the wire knows no jobs, files, events or HTTP")
	}
	for _, p := range []string{"pkg/files", "pkg/printer", "pkg/job"} {
		forbid("pkg/gcode", p, "gcode reads bytes only")
	}
	for _, p := range []string{"pkg/protocol", "pkg/printer"} {
		forbid("pkg/virtualprinter", p, "a simulated firmware that reuses the host's framing would hide its bugs")
		forbid(p, "pkg/virtualprinter", "the host must not lean on the simulator")
	}
	for _, p := range []string{"pkg/protocol", "pkg/serial", "pkg/store"} {
		forbid("pkg/api", p, "api reaches the wire only through printer and storage only through domain packages")
	}
	for pkg, imps := range g {
		if (under(pkg, "pkg/store") || under(pkg, "pkg/events")) && len(imps) > 0 {
			t.Errorf("%s imports %v: store and events import nothing of ours", pkg, imps)
		}
		for _, imp := range imps {
			// A package may import its own subpackages, and a test-helper
			// subpackage (powertest, apitest) its parent.
			if under(imp, pkg) || under(pkg, imp) && strings.HasSuffix(pkg, "test") {
				continue
			}
			if layer(imp) >= layer(pkg) && !(layer(pkg) == 2 && layer(imp) == 2) {
				t.Errorf("%s (layer %d) imports %s (layer %d): doors open downward only", pkg, layer(pkg), imp, layer(imp))
			}
		}
	}
	// Domain packages may use each other (settings holds power's config),
	// but never a higher room, and never in a cycle (go build forbids it).
	var domain []string
	for pkg := range g {
		if layer(pkg) == 2 {
			domain = append(domain, pkg)
		}
	}
	sort.Strings(domain)
	t.Logf("domain packages: %v", domain)
}
