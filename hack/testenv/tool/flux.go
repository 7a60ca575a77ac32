package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fluxSet is Flux's source-controller and kustomize-controller (build.go), which `up --with flux`
// runs next to a plane's control plane, the way a user's hub runs them in flux-system.
const fluxSet = "flux"

const fluxNamespace = "flux-system"

// fluxController is one Flux controller: its binary, the module its CRDs and RBAC come from, and the
// ServiceAccount it runs as.
type fluxController struct {
	name   string // the binary and its ServiceAccount, as in Flux's distribution
	module string
	prefix string // the namePrefix of the module's config/rbac kustomization
}

var fluxControllers = []fluxController{
	{name: "source-controller", module: "github.com/fluxcd/source-controller", prefix: "source-"},
	{name: "kustomize-controller", module: "github.com/fluxcd/kustomize-controller", prefix: "kustomize-"},
}

func fluxDir(env *environment, plane string) string {
	return filepath.Join(env.stateDir, plane, "flux")
}

func readFluxState(env *environment, plane string) (planeState, error) {
	return readState(env, filepath.Join(plane, "flux"))
}

// fluxRunning tells whether a plane's Flux supervisor is up and its controllers ready.
func fluxRunning(env *environment, plane string) bool {
	s, err := readFluxState(env, plane)
	return err == nil && s.Phase == phaseReady && alive(s.SupervisorPID)
}

// startFlux runs Flux on each running plane that does not run it yet, under a supervisor of its own
// that stops the controllers when the plane's supervisor ends (so they die with the plane, also one
// started earlier by another command), and returns when they are ready.
func startFlux(env *environment, planes []string) error {
	for _, name := range planes {
		if fluxRunning(env, name) {
			logf("flux is already running on plane %s", name)
			continue
		}
		if err := startSupervisor(fluxDir(env, name), "supervise-flux", name); err != nil {
			return err
		}
	}
	for _, name := range planes {
		deadline := time.Now().Add(3 * time.Minute)
		for {
			s, err := readFluxState(env, name)
			if err == nil && s.Phase == phaseReady {
				break
			}
			failed := err == nil && (s.Phase == phaseFailed || !alive(s.SupervisorPID))
			if failed || time.Now().After(deadline) {
				reason := "timed out"
				if err == nil && s.Message != "" {
					reason = s.Message
				}
				return fmt.Errorf("flux on plane %s did not start: %s\n%s", name, reason,
					tail(filepath.Join(fluxDir(env, name), "supervisor.log"), 20))
			}
			time.Sleep(200 * time.Millisecond)
		}
		fmt.Printf("%s\tflux\t%s\n", name, fluxDir(env, name))
	}
	return nil
}

// superviseFlux installs Flux's CRDs and RBAC into a ready plane and runs its controllers, each with
// its own ServiceAccount's token, until signalled or until the plane's supervisor ends.
func superviseFlux(env *environment, planeName string) error {
	ps, err := readState(env, planeName)
	if err != nil || ps.Phase != phaseReady {
		return fmt.Errorf("plane %s is not up", planeName)
	}
	bin, err := setDir(env, fluxSet)
	if err != nil {
		return err
	}
	p := &plane{env: env, name: planeName, dir: fluxDir(env, planeName), bin: bin, exited: make(chan *process, 8)}
	p.state = planeState{Name: planeName, SupervisorPID: os.Getpid(), Phase: phaseStarting, PIDs: map[string]int{},
		APIServerURL: ps.APIServerURL, BinDir: bin}
	p.publish()
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	fail := func(err error) error {
		p.stopAll()
		p.state.Phase, p.state.Message = phaseFailed, err.Error()
		p.publish()
		return err
	}
	if err := p.startFlux(ps); err != nil {
		return fail(err)
	}
	p.state.Phase = phaseReady
	p.publish()
	logf("flux is ready on plane %s", planeName)

	planeCheck := time.NewTicker(500 * time.Millisecond)
	defer planeCheck.Stop()
	for {
		select {
		case sig := <-signals:
			logf("flux on plane %s stopping on %v", planeName, sig)
			p.stopAll()
			p.state.Phase = phaseStopped
			p.publish()
			return nil
		case proc := <-p.exited:
			return fail(fmt.Errorf("%s exited unexpectedly (%v); see %s", proc.name, proc.cmd.ProcessState,
				p.path(proc.name+".log")))
		case <-planeCheck.C:
			if !alive(ps.SupervisorPID) {
				logf("plane %s is gone; stopping flux", planeName)
				p.stopAll()
				p.state.Phase = phaseStopped
				p.publish()
				return nil
			}
		}
	}
}

func (p *plane) startFlux(ps planeState) error {
	kubectl := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(ps.BinDir, "kubectl"), append([]string{"--kubeconfig", ps.Kubeconfig}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	crds, err := p.writeFluxInstall()
	if err != nil {
		return err
	}
	// Server-side: the CRDs are too large for the last-applied annotation of a client-side apply.
	if _, err := kubectl("apply", "--server-side", "--force-conflicts", "-k", p.path("install")); err != nil {
		return err
	}
	if _, err := kubectl(append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crds...)...); err != nil {
		return err
	}
	ca, err := os.ReadFile(filepath.Join(filepath.Dir(ps.Kubeconfig), "pki", "ca.crt"))
	if err != nil {
		return err
	}
	ports, err := freePorts(p.env.cacheDir, "storage", "source-health", "source-metrics", "kustomize-health", "kustomize-metrics")
	if err != nil {
		return err
	}
	for _, c := range fluxControllers {
		// A plane lives for a test run, well within the token's lifetime; Flux's Deployments get
		// theirs rotated by the kubelet instead.
		token, err := kubectl("create", "token", c.name, "-n", fluxNamespace, "--duration", "48h")
		if err != nil {
			return err
		}
		if err := writeTokenKubeconfig(p.path(c.name+".kubeconfig"), p.name, ps.APIServerURL, ca, c.name, token); err != nil {
			return err
		}
	}
	env := func(c string) []string {
		return []string{"KUBECONFIG=" + p.path(c+".kubeconfig"), "RUNTIME_NAMESPACE=" + fluxNamespace}
	}
	loopback := func(port string) string { return "127.0.0.1:" + strconv.Itoa(ports[port]) }
	common := []string{"--watch-all-namespaces=true", "--enable-leader-election=false", "--log-level=info"}
	storage := loopback("storage")
	if err := os.MkdirAll(p.path("storage"), 0o755); err != nil {
		return err
	}
	if err := p.runWithEnv("source-controller", env("source-controller"), append(common,
		"--health-addr", loopback("source-health"), "--metrics-addr", loopback("source-metrics"),
		"--storage-path", p.path("storage"), "--storage-addr", storage, "--storage-adv-addr", storage)...); err != nil {
		return err
	}
	if err := p.runWithEnv("kustomize-controller", env("kustomize-controller"), append(common,
		"--health-addr", loopback("kustomize-health"), "--metrics-addr", loopback("kustomize-metrics"),
		"--no-remote-bases=true")...); err != nil {
		return err
	}
	for _, port := range []string{"source-health", "kustomize-health"} {
		if err := waitFor(60*time.Second, port+" /readyz", func() error {
			return get(http.DefaultClient, "http://"+loopback(port)+"/readyz")
		}); err != nil {
			return err
		}
	}
	return nil
}

// writeFluxInstall writes a kustomization of the controllers' own config/crd and config/rbac from
// the pinned modules, bound to their ServiceAccounts in flux-system as Flux's distribution binds
// them; it returns the CRDs to wait for. Like Flux's install, it keeps config/rbac's
// cluster-reconciler binding of cluster-admin to kustomize-controller, which applies whatever a
// Kustomization holds.
func (p *plane) writeFluxInstall() ([]string, error) {
	dir := p.path("install")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	doc := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", fluxNamespace)
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + fluxNamespace +
		"\nresources:\n- flux-system.yaml\n"
	var patches []string
	var crds []string
	for _, c := range fluxControllers {
		doc += fmt.Sprintf("---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n  namespace: %s\n", c.name, fluxNamespace)
		modDir, err := moduleDir(p.env, fluxSet, c.module)
		if err != nil {
			return nil, err
		}
		// kustomize refuses absolute paths to other roots.
		rel, err := filepath.Rel(dir, modDir)
		if err != nil {
			return nil, err
		}
		kustomization += "- " + filepath.Join(rel, "config", "crd") + "\n- " + filepath.Join(rel, "config", "rbac") + "\n"
		// config/rbac binds its roles to ServiceAccount system/default.
		patches = append(patches, fmt.Sprintf(`- target: {group: rbac.authorization.k8s.io, kind: "ClusterRoleBinding|RoleBinding", name: "%s.*"}
  patch: '[{"op": "replace", "path": "/subjects/0", "value": {"kind": "ServiceAccount", "name": "%s", "namespace": "%s"}}]'
`, c.prefix, c.name, fluxNamespace))
		bases, err := filepath.Glob(filepath.Join(modDir, "config", "crd", "bases", "*.yaml"))
		if err != nil {
			return nil, err
		}
		for _, base := range bases {
			// config/crd/bases/GROUP_PLURAL.yaml holds the CRD PLURAL.GROUP.
			group, plural, _ := strings.Cut(strings.TrimSuffix(filepath.Base(base), ".yaml"), "_")
			crds = append(crds, "crd/"+plural+"."+group)
		}
	}
	kustomization += "patches:\n" + strings.Join(patches, "")
	if err := os.WriteFile(filepath.Join(dir, "flux-system.yaml"), []byte(doc), 0o644); err != nil {
		return nil, err
	}
	return crds, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644)
}

// moduleDir is where the module cache holds a component's pinned module.
func moduleDir(env *environment, componentDir, module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = filepath.Join(env.hackDir, componentDir)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate the %s module: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func writeTokenKubeconfig(path, plane, server string, caPEM []byte, user, token string) error {
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[4]s
  user:
    token: %[5]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[4]s
current-context: %[1]s
`, plane, server, base64.StdEncoding.EncodeToString(caPEM), user, token)
	return os.WriteFile(path, []byte(content), 0o600)
}
