// Command testenv builds pinned Kubernetes control-plane binaries and the tools flotilla renders
// sources with (helm, kustomize, and an OCI registry for tests) from the Go module proxy, and runs
// any number of named local control planes (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok with fake nodes) on loopback, one supervisor process per plane.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type environment struct {
	hackDir  string // hack/testenv: the component modules
	stateDir string // .testenv: one folder per plane
	cacheDir string // built binaries, keyed by version
}

const usage = `usage: testenv COMMAND

  build [--with flux]            build the pinned binaries into the cache (skipped when present);
                                 prints the control plane's folder. Flux (source-controller and
                                 kustomize-controller) is built only when asked for
  up [--owner-pid PID] [--nodes N] [--with flux] [--audit] NAME...
  bin NAME                       print the absolute path of one pinned binary (helm, kustomize,
                                 registry, kubectl, ...), building it first if it is missing
                                 start the named planes in parallel; returns when all are ready.
                                 With --owner-pid the planes stop when that process ends.
                                 --audit makes each apiserver log every request's metadata (who,
                                 verb, resource, code; no bodies) as JSON lines to
                                 .testenv/NAME/audit.log, for benchmarks that count requests
                                 per identity (the apiserver's /metrics has no user label).
                                 --with flux also runs Flux's source-controller and
                                 kustomize-controller against each plane (started on a plane
                                 already running too), as ServiceAccounts in flux-system; they
                                 stop with the plane. Files in .testenv/NAME/flux
  down [NAME...]                 stop the named planes (default: all)
  tie --owner-pid PID -- COMMAND [ARG...]
                                 run COMMAND until it exits, this process is signalled, or PID
                                 ends (a test's helper server never outlives the test run)
  kubeconfig NAME                print the path of the plane's admin kubeconfig
  status                         the planes, their state, and each process's resident memory
  apiserver NAME stop|start      stop or start one plane's kube-apiserver (to test outages)

environment: FLOTILLA_TESTENV_DIR (default .testenv), FLOTILLA_CACHE_DIR (default ~/.cache/flotilla)
`

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", args...)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	env, err := loadEnvironment()
	if err == nil {
		err = dispatch(env, os.Args[1], os.Args[2:])
	}
	if err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}

func loadEnvironment() (*environment, error) {
	hackDir := os.Getenv("FLOTILLA_TESTENV_HACK_DIR")
	if hackDir == "" {
		return nil, errors.New("FLOTILLA_TESTENV_HACK_DIR is not set: run hack/testenv/testenv, not this binary")
	}
	cache := os.Getenv("FLOTILLA_CACHE_DIR")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		cache = filepath.Join(base, "flotilla")
	}
	state := os.Getenv("FLOTILLA_TESTENV_DIR")
	if state == "" {
		state = filepath.Join(hackDir, "..", "..", ".testenv")
	}
	state, err := filepath.Abs(state)
	if err != nil {
		return nil, err
	}
	cache = filepath.Join(cache, "testenv")
	for _, d := range []string{state, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return &environment{hackDir: hackDir, stateDir: state, cacheDir: cache}, nil
}

func dispatch(env *environment, command string, args []string) error {
	switch command {
	case "build":
		flags := flag.NewFlagSet("build", flag.ExitOnError)
		var with withSets
		flags.Var(&with, "with", "also build this on-demand set (flux)")
		_ = flags.Parse(args)
		dir, err := build(env, with)
		if err == nil {
			fmt.Println(dir)
		}
		return err
	case "bin":
		if len(args) != 1 {
			return errors.New("bin needs one binary name")
		}
		path, err := binaryPath(env, args[0])
		if err == nil {
			fmt.Println(path)
		}
		return err
	case "up":
		flags := flag.NewFlagSet("up", flag.ExitOnError)
		owner := flags.Int("owner-pid", 0, "stop the planes when this process ends")
		nodes := flags.Int("nodes", 2, "fake nodes per plane")
		var with withSets
		flags.Var(&with, "with", "also run this on the planes (flux)")
		audit := flags.Bool("audit", false, "log every request's metadata to .testenv/NAME/audit.log")
		_ = flags.Parse(args)
		if flags.NArg() == 0 {
			return errors.New("up needs at least one plane name")
		}
		if err := up(env, flags.Args(), *owner, *nodes, with, *audit); err != nil {
			return err
		}
		if slices.Contains(with, fluxSet) {
			return startFlux(env, flags.Args())
		}
		return nil
	case "supervise-flux":
		if len(args) != 1 {
			return errors.New("supervise-flux needs one plane name")
		}
		return superviseFlux(env, args[0])
	case "supervise":
		flags := flag.NewFlagSet("supervise", flag.ExitOnError)
		owner := flags.Int("owner-pid", 0, "")
		nodes := flags.Int("nodes", 2, "")
		audit := flags.Bool("audit", false, "")
		_ = flags.Parse(args)
		return supervise(env, flags.Arg(0), *owner, *nodes, *audit)
	case "tie":
		flags := flag.NewFlagSet("tie", flag.ExitOnError)
		owner := flags.Int("owner-pid", 0, "stop the command when this process ends")
		_ = flags.Parse(args)
		code, err := tie(*owner, flags.Args())
		if err == nil && code != 0 {
			os.Exit(code)
		}
		return err
	case "down":
		return down(env, args)
	case "kubeconfig":
		if len(args) != 1 {
			return errors.New("kubeconfig needs one plane name")
		}
		s, err := readState(env, args[0])
		if err != nil || s.Phase != phaseReady {
			return fmt.Errorf("plane %s is not up (run: testenv up %s)", args[0], args[0])
		}
		fmt.Println(s.Kubeconfig)
		return nil
	case "status":
		return status(env)
	case "apiserver":
		if len(args) != 2 || (args[1] != "stop" && args[1] != "start") {
			return errors.New("usage: apiserver NAME stop|start")
		}
		return toggleAPIServer(env, args[0], args[1] == "start")
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}

func validName(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// withSets collects --with flags: the on-demand sets a command should build and run.
type withSets []string

func (w *withSets) String() string { return strings.Join(*w, ",") }

func (w *withSets) Set(v string) error {
	if v != fluxSet {
		return fmt.Errorf("unknown set %q (known: %s)", v, fluxSet)
	}
	*w = append(*w, v)
	return nil
}

// startSupervisor empties dir and starts this tool with args there, detached in its own session so it
// outlives the command that started it, logging to dir/supervisor.log.
func startSupervisor(dir string, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, "supervisor.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

func up(env *environment, names []string, ownerPID, nodes int, with []string, audit bool) error {
	if _, err := build(env, with); err != nil {
		return err
	}
	var started []string
	for _, name := range names {
		if !validName(name) {
			return fmt.Errorf("plane name %q: use lowercase letters, digits and '-'", name)
		}
		if s, err := readState(env, name); err == nil && alive(s.SupervisorPID) && s.Phase != phaseFailed {
			logf("plane %s is already running (supervisor %d)", name, s.SupervisorPID)
			continue
		}
		if err := startSupervisor(filepath.Join(env.stateDir, name), "supervise", "--owner-pid", strconv.Itoa(ownerPID), "--nodes", strconv.Itoa(nodes),
			"--audit="+strconv.FormatBool(audit), name); err != nil {
			return err
		}
		started = append(started, name)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for _, name := range names {
		for {
			s, err := readState(env, name)
			if err == nil && s.Phase == phaseReady {
				fmt.Printf("%s\t%s\t%s\n", name, s.APIServerURL, s.Kubeconfig)
				break
			}
			failed := err == nil && (s.Phase == phaseFailed || !alive(s.SupervisorPID))
			if failed || time.Now().After(deadline) {
				_ = down(env, started)
				reason := "timed out"
				if err == nil && s.Message != "" {
					reason = s.Message
				}
				return fmt.Errorf("plane %s did not come up: %s\n%s", name, reason,
					tail(filepath.Join(env.stateDir, name, "supervisor.log"), 20))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func planeNames(env *environment, names []string) []string {
	if len(names) > 0 {
		return names
	}
	entries, _ := os.ReadDir(env.stateDir)
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(env.stateDir, e.Name(), "state.json")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names
}

func down(env *environment, names []string) error {
	// Flux first: its controllers are clients of the plane, which should outlive them.
	var fluxes, planes []planeState
	for _, name := range planeNames(env, names) {
		if s, err := readFluxState(env, name); err == nil && alive(s.SupervisorPID) {
			_ = syscall.Kill(s.SupervisorPID, syscall.SIGTERM)
			fluxes = append(fluxes, s)
		}
	}
	for _, s := range fluxes {
		stopSupervisor(s, "flux on plane "+s.Name)
	}
	for _, name := range planeNames(env, names) {
		s, err := readState(env, name)
		if err != nil || !alive(s.SupervisorPID) {
			continue
		}
		_ = syscall.Kill(s.SupervisorPID, syscall.SIGTERM)
		planes = append(planes, s)
	}
	for _, s := range planes {
		stopSupervisor(s, "plane "+s.Name)
		_ = os.RemoveAll(filepath.Join(env.stateDir, s.Name, "etcd-data"))
		logf("plane %s is down", s.Name)
	}
	return nil
}

// stopSupervisor waits for a signalled supervisor to stop its processes and kills what it left.
func stopSupervisor(s planeState, what string) {
	deadline := time.Now().Add(30 * time.Second)
	for alive(s.SupervisorPID) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// The supervisor leads its session: this reaches anything it left behind.
	_ = syscall.Kill(-s.SupervisorPID, syscall.SIGKILL)
	for name, pid := range s.PIDs {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			logf("killed leftover %s (%d) of %s", name, pid, what)
		}
	}
}

func status(env *environment) error {
	fmt.Printf("%-12s %-9s %-28s %s\n", "PLANE", "PHASE", "APISERVER", "RESIDENT MEMORY (MiB)")
	for _, name := range planeNames(env, nil) {
		s, err := readState(env, name)
		if err != nil {
			continue
		}
		phase := s.Phase
		if !alive(s.SupervisorPID) && phase != phaseStopped {
			phase = "Gone"
		}
		var parts []string
		total := 0
		if f, err := readFluxState(env, name); err == nil && alive(f.SupervisorPID) {
			for k, pid := range f.PIDs {
				s.PIDs[k] = pid
			}
		}
		keys := make([]string, 0, len(s.PIDs))
		for k := range s.PIDs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if kib := residentKiB(s.PIDs[k]); kib > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", k, kib/1024))
				total += kib
			}
		}
		fmt.Printf("%-12s %-9s %-28s total=%d %s\n", name, phase, s.APIServerURL, total/1024, strings.Join(parts, " "))
	}
	return nil
}

func residentKiB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				n, _ := strconv.Atoi(fields[1])
				return n
			}
		}
	}
	return 0
}

func toggleAPIServer(env *environment, name string, start bool) error {
	s, err := readState(env, name)
	if err != nil || !alive(s.SupervisorPID) {
		return fmt.Errorf("plane %s is not running", name)
	}
	sig, want := syscall.SIGUSR1, "Stopped"
	if start {
		sig, want = syscall.SIGUSR2, "Running"
	}
	if err := syscall.Kill(s.SupervisorPID, sig); err != nil {
		return err
	}
	return waitFor(2*time.Minute, "apiserver "+want, func() error {
		s, err := readState(env, name)
		if err != nil {
			return err
		}
		if s.APIServerState != want {
			return fmt.Errorf("apiserver is %s", s.APIServerState)
		}
		return nil
	})
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func writeKubeconfig(path, plane, server string, caPEM []byte, id keyPair) error {
	b64 := base64.StdEncoding.EncodeToString
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s-%[4]s
  user:
    client-certificate-data: %[5]s
    client-key-data: %[6]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s-%[4]s
current-context: %[1]s
`, plane, server, b64(caPEM), id.cert.Subject.CommonName, b64(id.certPEM), b64(id.keyPEM))
	return os.WriteFile(path, []byte(content), 0o600)
}
