package power_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/power"
)

// The kernel test drives a real GPIO character-device line with the same code
// the appliance runs. It needs a kernel with gpio-sim (CONFIG_GPIO_SIM and
// configfs): the parent test creates a simulated chip with two named lines
// and re-runs this test binary as a child, because periph.io lists the
// chips only once per process. The child switches the relay and checks the
// line through gpio-sim's sysfs attributes.
//
// Without gpio-sim, CUTTLE_GPIO_LINE names an existing line to drive instead
// (for example on QEMU's PL061 or a Pi): the test switches it through
// /dev/gpiochip* and checks no call fails.

const (
	envSimOut   = "CUTTLE_GPIOSIM_OUT"   // child mode: output line name
	envSimSense = "CUTTLE_GPIOSIM_SENSE" // child mode: sense line name
	envSimSysfs = "CUTTLE_GPIOSIM_SYSFS" // child mode: /sys/devices/platform/gpio-sim.N/gpiochipM
)

func TestKernelGPIO(t *testing.T) {
	if os.Getenv(envSimOut) != "" {
		kernelChild(t)
		return
	}
	if line := os.Getenv("CUTTLE_GPIO_LINE"); line != "" {
		kernelNamedLine(t, line)
		return
	}
	root, why := gpioSimRoot()
	if root == "" {
		t.Skipf("no kernel GPIO to drive: %s; set CUTTLE_GPIO_LINE=<line name> to drive a real line instead", why)
	}
	sysfs, out, sense := makeSimChip(t, root)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelGPIO$", "-test.v")
	cmd.Env = append(os.Environ(), envSimOut+"="+out, envSimSense+"="+sense, envSimSysfs+"="+sysfs)
	b, err := cmd.CombinedOutput()
	t.Logf("child on gpio-sim chip %s:\n%s", sysfs, b)
	if err != nil {
		t.Fatalf("child test: %v", err)
	}
	if !strings.Contains(string(b), "--- PASS: TestKernelGPIO") {
		t.Fatal("child test did not pass")
	}
}

// gpioSimRoot finds gpio-sim's configfs directory, loading the module and
// mounting configfs when it can.
func gpioSimRoot() (root, why string) {
	const dir = "/sys/kernel/config/gpio-sim"
	if _, err := os.Stat(dir); err == nil {
		return dir, ""
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("modprobe"); err == nil {
			_ = exec.Command("modprobe", "gpio-sim").Run()
		}
		if _, err := os.Stat("/sys/kernel/config"); err == nil {
			_ = exec.Command("mount", "-t", "configfs", "configfs", "/sys/kernel/config").Run()
		}
		if _, err := os.Stat(dir); err == nil {
			return dir, ""
		}
	}
	fs, _ := os.ReadFile("/proc/filesystems")
	if !strings.Contains(string(fs), "configfs") {
		return "", "this kernel has no configfs (CONFIG_CONFIGFS_FS), so no gpio-sim"
	}
	return "", dir + " missing: kernel without gpio-sim (CONFIG_GPIO_SIM) or not root"
}

// makeSimChip creates a live gpio-sim chip with an output and a sense line
// and returns its sysfs directory and the two line names.
func makeSimChip(t *testing.T, root string) (sysfs, out, sense string) {
	t.Helper()
	id := fmt.Sprintf("cuttle%d", os.Getpid())
	dev := filepath.Join(root, id)
	bank := filepath.Join(dev, "gpio-bank0")
	out, sense = "CUTTLE_SIM_OUT_"+id, "CUTTLE_SIM_SENSE_"+id
	write := func(p, v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatalf("gpio-sim setup: %v", err)
		}
	}
	mkdir := func(p string) {
		t.Helper()
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatalf("gpio-sim setup: %v", err)
		}
	}
	mkdir(dev)
	t.Cleanup(func() { _ = os.Remove(dev) })
	mkdir(bank)
	t.Cleanup(func() { _ = os.Remove(bank) })
	write(filepath.Join(bank, "num_lines"), "2")
	for i, name := range []string{out, sense} {
		l := filepath.Join(bank, fmt.Sprintf("line%d", i))
		mkdir(l)
		t.Cleanup(func() { _ = os.Remove(l) })
		write(filepath.Join(l, "name"), name)
	}
	write(filepath.Join(dev, "live"), "1")
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(dev, "live"), []byte("0"), 0o644) })
	devName, err1 := os.ReadFile(filepath.Join(dev, "dev_name"))
	chipName, err2 := os.ReadFile(filepath.Join(bank, "chip_name"))
	if err1 != nil || err2 != nil {
		t.Fatalf("gpio-sim names: %v, %v", err1, err2)
	}
	return filepath.Join("/sys/devices/platform", strings.TrimSpace(string(devName)), strings.TrimSpace(string(chipName))), out, sense
}

func kernelChild(t *testing.T) {
	ctx := context.Background()
	sysfs := os.Getenv(envSimSysfs)
	value := func(offset int) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(sysfs, fmt.Sprintf("sim_gpio%d", offset), "value"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	setSense := func(pull string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(sysfs, "sim_gpio1", "pull"), []byte(pull), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := power.NewHost().Open(power.RelayConfig{
		Name: "psu", Pin: os.Getenv(envSimOut), ActiveLow: true, Startup: power.StartupOff,
		SensePin: os.Getenv(envSimSense),
	})
	if st := r.(power.Reporter).Status(ctx); !st.Available {
		t.Fatalf("relay on gpio-sim unavailable: %s", st.Reason)
	}
	if v := value(0); v != "1" {
		t.Errorf("active-low line after start-up off = %s; want 1", v)
	}
	if err := r.On(ctx); err != nil {
		t.Fatal(err)
	}
	if v := value(0); v != "0" {
		t.Errorf("active-low line after On = %s; want 0", v)
	}
	setSense("pull-up")
	if s, err := r.State(ctx); err != nil || s != power.On {
		t.Errorf("State() with sense pulled up = %s, %v; want on", s, err)
	}
	setSense("pull-down")
	if s, err := r.State(ctx); err != nil || s != power.Off {
		t.Errorf("State() with sense pulled down = %s, %v; want off", s, err)
	}
	if err := r.Off(ctx); err != nil {
		t.Fatal(err)
	}
	if v := value(0); v != "1" {
		t.Errorf("active-low line after Off = %s; want 1", v)
	}
}

func kernelNamedLine(t *testing.T, line string) {
	ctx := context.Background()
	r := power.NewHost().Open(power.RelayConfig{Name: "psu", Pin: line})
	if st := r.(power.Reporter).Status(ctx); !st.Available {
		t.Fatalf("relay on %s unavailable: %s", line, st.Reason)
	}
	for _, want := range []power.State{power.On, power.Off, power.On, power.Off} {
		if _, err := r.Toggle(ctx); err != nil {
			t.Fatalf("Toggle() on %s: %v", line, err)
		}
		if s, err := r.State(ctx); err != nil || s != want {
			t.Errorf("State() on %s = %s, %v; want %s", line, s, err, want)
		}
	}
}
