package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
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

// Phases a plane's supervisor reports in state.json.
const (
	phaseStarting = "Starting"
	phaseReady    = "Ready"
	phaseFailed   = "Failed"
	phaseStopped  = "Stopped"
)

// planeState is what a supervisor publishes about its plane, for the CLI and the e2e framework.
type planeState struct {
	Name           string         `json:"name"`
	SupervisorPID  int            `json:"supervisorPID"`
	Phase          string         `json:"phase"`
	Message        string         `json:"message,omitempty"`
	APIServerURL   string         `json:"apiServerURL"`
	EtcdURL        string         `json:"etcdURL"`
	APIServerState string         `json:"apiServerState"`
	Kubeconfig     string         `json:"kubeconfig"`
	BinDir         string         `json:"binDir"`
	PIDs           map[string]int `json:"pids"`
	// AuditLog is the apiserver's audit log (JSON lines), when the plane was started with --audit.
	AuditLog string `json:"auditLog,omitempty"`
}

// process is one control-plane program the supervisor runs.
type process struct {
	name string
	args []string
	cmd  *exec.Cmd
	// stopping is set before the supervisor terminates the process on purpose, so that its exit is not
	// read as a crash. It is per process, not per name: a stopped apiserver's exit can reach the loop
	// after its successor started (a slow shutdown, killed after 10 s on a busy machine).
	stopping bool
}

type plane struct {
	env       *environment
	name      string
	dir       string
	bin       string
	ownerPID  int
	nodes     int
	audit     bool
	ports     map[string]int
	processes []*process
	state     planeState
	exited    chan *process
	client    *http.Client
}

func (p *plane) path(parts ...string) string {
	return filepath.Join(append([]string{p.dir}, parts...)...)
}

func (p *plane) publish() {
	data, _ := json.MarshalIndent(p.state, "", "  ")
	tmp := p.path("state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err == nil {
		_ = os.Rename(tmp, p.path("state.json"))
	}
}

func readState(env *environment, name string) (planeState, error) {
	var s planeState
	data, err := os.ReadFile(filepath.Join(env.stateDir, name, "state.json"))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(data, &s)
}

// Listen ports come from below the kernel's ephemeral range (ip_local_port_range starts at 32768),
// so an outgoing connection can never hold a plane's port while its apiserver restarts, and from a
// counter shared by every supervisor on the machine (under a file lock), so planes starting in
// parallel never pick the same port.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
)

func freePorts(lockDir string, names ...string) (map[string]int, error) {
	lock, err := os.OpenFile(filepath.Join(lockDir, "ports.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	buf := make([]byte, 16)
	n, _ := lock.ReadAt(buf, 0)
	next, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || next < portRangeLow || next >= portRangeHigh {
		next = portRangeLow
	}
	ports := map[string]int{}
	for _, name := range names {
		for tries := 0; ; tries++ {
			if tries == portRangeHigh-portRangeLow {
				return nil, fmt.Errorf("no free port in %d-%d", portRangeLow, portRangeHigh)
			}
			port := next
			next++
			if next >= portRangeHigh {
				next = portRangeLow
			}
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				l.Close()
				ports[name] = port
				break
			}
		}
	}
	if err := lock.Truncate(0); err != nil {
		return nil, err
	}
	_, err = lock.WriteAt([]byte(strconv.Itoa(next)), 0)
	return ports, err
}

// supervise runs one plane until told to stop, its owner process dies, or a part of it fails.
func supervise(env *environment, name string, ownerPID, nodes int, audit bool) error {
	bin, err := binDir(env)
	if err != nil {
		return err
	}
	p := &plane{env: env, name: name, dir: filepath.Join(env.stateDir, name), bin: bin, ownerPID: ownerPID, nodes: nodes, audit: audit,
		exited: make(chan *process, 64)}
	p.state = planeState{Name: name, SupervisorPID: os.Getpid(), Phase: phaseStarting, PIDs: map[string]int{},
		Kubeconfig: p.path("kubeconfig"), BinDir: bin}
	p.publish()

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)

	if err := p.start(); err != nil {
		p.state.Phase, p.state.Message = phaseFailed, err.Error()
		p.publish()
		p.stopAll()
		return err
	}
	p.state.Phase = phaseReady
	p.publish()
	logf("plane %s is ready at %s", name, p.state.APIServerURL)

	ownerCheck := time.NewTicker(500 * time.Millisecond)
	defer ownerCheck.Stop()
	for {
		select {
		case sig := <-signals:
			switch sig {
			case syscall.SIGUSR1:
				p.stopAPIServer()
			case syscall.SIGUSR2:
				if p.state.APIServerState == "Running" {
					continue
				}
				if err := p.startAPIServer(); err != nil {
					logf("restarting the apiserver failed: %v", err)
				}
			default:
				logf("plane %s stopping on %v", name, sig)
				p.stopAll()
				p.state.Phase = phaseStopped
				p.publish()
				return nil
			}
		case proc := <-p.exited:
			if proc.stopping {
				continue
			}
			msg := fmt.Sprintf("%s exited unexpectedly (%v); see %s", proc.name, proc.cmd.ProcessState, p.path(proc.name+".log"))
			logf("%s", msg)
			p.stopAll()
			p.state.Phase, p.state.Message = phaseFailed, msg
			p.publish()
			return fmt.Errorf("%s", msg)
		case <-ownerCheck.C:
			if ownerPID > 0 && !alive(ownerPID) {
				logf("owner process %d is gone; stopping plane %s", ownerPID, name)
				p.stopAll()
				p.state.Phase = phaseStopped
				p.publish()
				return nil
			}
		}
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

func (p *plane) start() error {
	ports, err := freePorts(p.env.cacheDir, "etcd-client", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok")
	if err != nil {
		return err
	}
	p.ports = ports
	pki, err := newPlanePKI(p.name)
	if err != nil {
		return err
	}
	pkiDir := p.path("pki")
	if err := pki.writeFiles(pkiDir); err != nil {
		return err
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", ports["apiserver"])
	p.state.APIServerURL = server
	for file, id := range map[string]keyPair{"kubeconfig": pki.admin, "controller-manager.kubeconfig": pki.controllerManager,
		"scheduler.kubeconfig": pki.scheduler, "kwok.kubeconfig": pki.kwok} {
		if err := writeKubeconfig(p.path(file), p.name, server, pki.ca.certPEM, id); err != nil {
			return err
		}
	}
	p.client, err = httpClient(pki)
	if err != nil {
		return err
	}

	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports["etcd-client"])
	p.state.EtcdURL = etcdURL
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports["etcd-peer"])
	if err := p.run("etcd", "--name", p.name, "--data-dir", p.path("etcd-data"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", p.name+"="+peerURL, "--unsafe-no-fsync", "--log-level", "warn",
		// 8 GiB, etcd's largest suggested quota, against the 2 GiB default: a 10,000-cluster benchmark
		// holds 100,000 Works and their revisions between the apiserver's compactions.
		"--quota-backend-bytes", strconv.FormatInt(8<<30, 10)); err != nil {
		return err
	}
	if err := waitFor(30*time.Second, "etcd health", func() error { return get(http.DefaultClient, etcdURL+"/health") }); err != nil {
		return err
	}
	if err := p.startAPIServer(); err != nil {
		return err
	}
	common := func(kubeconfig, port string) []string {
		k := p.path(kubeconfig)
		return []string{"--kubeconfig", k, "--authentication-kubeconfig", k, "--authorization-kubeconfig", k,
			"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(ports[port]), "--leader-elect=false"}
	}
	if err := p.run("kube-controller-manager", append(common("controller-manager.kubeconfig", "controller-manager"),
		"--use-service-account-credentials=true",
		"--service-account-private-key-file", filepath.Join(pkiDir, "sa.key"),
		"--root-ca-file", filepath.Join(pkiDir, "ca.crt"),
		"--cluster-signing-cert-file", filepath.Join(pkiDir, "ca.crt"),
		"--cluster-signing-key-file", filepath.Join(pkiDir, "ca.key"),
		"--cert-dir", p.path("controller-manager-certs"))...); err != nil {
		return err
	}
	if err := p.run("kube-scheduler", append(common("scheduler.kubeconfig", "scheduler"),
		"--cert-dir", p.path("scheduler-certs"))...); err != nil {
		return err
	}
	if err := p.run("kwok", "--kubeconfig", p.path("kwok.kubeconfig"),
		"--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--config", filepath.Join(p.bin, stagesFile),
		"--server-address", fmt.Sprintf("127.0.0.1:%d", ports["kwok"]),
		"--node-lease-duration-seconds", "40"); err != nil {
		return err
	}
	if err := p.kubectlApply(fakeNodes(p.name, p.nodes)); err != nil {
		return fmt.Errorf("create fake nodes: %w", err)
	}
	// Ready means usable: nodes Ready (kwok works) and default ServiceAccounts made (the controller-manager works).
	if err := waitFor(90*time.Second, "nodes Ready", func() error {
		return p.kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=5s")
	}); err != nil {
		return err
	}
	return waitFor(90*time.Second, "the default ServiceAccount", func() error {
		return p.kubectl("get", "serviceaccount", "default", "-n", "default")
	})
}

// auditPolicy logs who made each request, its verb, resource and answer, never a body: counting, not
// recording. ResponseStarted is kept so a watch is seen when it opens, not only when it ends.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`

// auditArgs are the apiserver flags for --audit: a synchronous JSON log, so that a request's entry is
// written by the time its answer is sent.
func (p *plane) auditArgs() ([]string, error) {
	if !p.audit {
		return nil, nil
	}
	policy := p.path("audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, err
	}
	p.state.AuditLog = p.path("audit.log")
	return []string{"--audit-policy-file", policy, "--audit-log-path", p.state.AuditLog, "--audit-log-format", "json",
		"--audit-log-mode", "blocking"}, nil
}

func (p *plane) startAPIServer() error {
	pkiDir := p.path("pki")
	audit, err := p.auditArgs()
	if err != nil {
		return err
	}
	err = p.run("kube-apiserver", append([]string{
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", p.ports["etcd-client"]),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(p.ports["apiserver"]),
		"--cert-dir", p.path("apiserver-certs"),
		"--tls-cert-file", filepath.Join(pkiDir, "apiserver.crt"),
		"--tls-private-key-file", filepath.Join(pkiDir, "apiserver.key"),
		"--client-ca-file", filepath.Join(pkiDir, "ca.crt"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(pkiDir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(pkiDir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--authorization-mode", "RBAC",
		// Loopback addresses are not valid endpoints for the kubernetes Service; nothing here needs them.
		"--endpoint-reconciler-type", "none",
		"--allow-privileged=true",
		// Off, as a hardened apiserver has it; a benchmark asking what the apiserver's CPU went on turns
		// it on (FLOTILLA_TESTENV_APISERVER_PROFILING=1) and reads /debug/pprof/profile.
		"--profiling=" + strconv.FormatBool(os.Getenv("FLOTILLA_TESTENV_APISERVER_PROFILING") == "1")}, audit...)...)
	if err != nil {
		return err
	}
	if err := waitFor(90*time.Second, "kube-apiserver /readyz", func() error {
		return get(p.client, p.state.APIServerURL+"/readyz")
	}); err != nil {
		return err
	}
	p.state.APIServerState = "Running"
	p.publish()
	return nil
}

func (p *plane) stopAPIServer() {
	for _, proc := range p.processes {
		if proc.name == "kube-apiserver" && proc.cmd.ProcessState == nil {
			p.state.APIServerState = "Stopped"
			proc.stopping = true
			terminate(proc)
		}
	}
	p.publish()
}

// run starts a binary with its output in NAME.log; its exit is reported on p.exited.
func (p *plane) run(name string, args ...string) error {
	return p.runWithEnv(name, nil, args...)
}

// runWithEnv is run with extra environment variables for the binary.
func (p *plane) runWithEnv(name string, env []string, args ...string) error {
	logFile, err := os.OpenFile(p.path(name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The kernel kills the child if the supervisor dies, however it dies: nothing outlives a plane.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	proc := &process{name: name, args: args, cmd: cmd}
	p.processes = append(p.processes, proc)
	p.state.PIDs[name] = cmd.Process.Pid
	p.publish()
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
		p.exited <- proc
	}()
	// A binary that dies at once (bad flag, port taken) should fail the start, not a later wait.
	select {
	case <-done:
		return fmt.Errorf("%s exited at start (%v); see %s", name, cmd.ProcessState, p.path(name+".log"))
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}

// stopAll stops the processes newest first, so each part outlives what depends on it.
func (p *plane) stopAll() {
	for i := len(p.processes) - 1; i >= 0; i-- {
		if p.processes[i].cmd.ProcessState == nil {
			terminate(p.processes[i])
		}
	}
}

func terminate(proc *process) {
	_ = proc.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(proc.cmd.Process.Pid) || proc.cmd.ProcessState != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = proc.cmd.Process.Kill()
}

func (p *plane) kubectl(args ...string) error {
	cmd := exec.Command(filepath.Join(p.bin, "kubectl"), append([]string{"--kubeconfig", p.path("kubeconfig")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (p *plane) kubectlApply(manifest string) error {
	cmd := exec.Command(filepath.Join(p.bin, "kubectl"), "--kubeconfig", p.path("kubeconfig"), "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// fakeNodes are Nodes kwok plays the kubelet for: pods scheduled to them become Running and Ready.
func fakeNodes(plane string, count int) string {
	var docs []string
	for i := 1; i <= count; i++ {
		name := fmt.Sprintf("%s-node-%d", plane, i)
		docs = append(docs, fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %s
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: %s
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/worker: ""
    type: kwok
status:
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  allocatable: {cpu: 7800m, memory: 31Gi, pods: "110"}
`, name, name))
	}
	return strings.Join(docs, "---\n")
}

func httpClient(pki *planePKI) (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pki.ca.certPEM)
	cert, err := tls.X509KeyPair(pki.admin.certPEM, pki.admin.keyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}, nil
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func waitFor(timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s waiting for %s: %v", timeout, what, err)
}
