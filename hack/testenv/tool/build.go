package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// component is one Go module under hack/testenv that builds some of the binaries.
type component struct {
	module   string // folder under hack/testenv
	requires string // the pinned module whose version keys the cache
	packages []string
	ldflags  func(version string) string
	set      string // the components of one set share a cache folder, keyed by all their versions
	// onDemand components are left out of `testenv build`: only `bin NAME`, `build --with SET` and
	// `up --with SET` build them, so a run that does not need them never pays for them.
	onDemand bool
}

// planeSet is the control plane's binaries, which a plane runs together (plane.go: binDir).
const planeSet = "plane"

var components = []component{
	{
		module:   "etcd",
		requires: "go.etcd.io/etcd/server/v3",
		packages: []string{"go.etcd.io/etcd/server/v3"},
		ldflags:  func(string) string { return "-s -w" },
		set:      planeSet,
	},
	{
		module:   "kube",
		requires: "k8s.io/kubernetes",
		packages: []string{
			"k8s.io/kubernetes/cmd/kube-apiserver",
			"k8s.io/kubernetes/cmd/kube-controller-manager",
			"k8s.io/kubernetes/cmd/kube-scheduler",
			"k8s.io/kubernetes/cmd/kubectl",
		},
		ldflags: kubeLdflags,
		set:     planeSet,
	},
	{
		module:   "kwok",
		requires: "sigs.k8s.io/kwok",
		packages: []string{"sigs.k8s.io/kwok/cmd/kwok"},
		ldflags:  func(string) string { return "-s -w" },
		set:      planeSet,
	},
	// The tools the hub renders sources with, and the registry tests push charts to. Each is its own
	// set, so bumping one rebuilds only that one and never the control plane.
	{
		module:   "helm",
		requires: "helm.sh/helm/v4",
		packages: []string{"helm.sh/helm/v4/cmd/helm"},
		ldflags:  helmLdflags,
		set:      "helm",
	},
	{
		module:   "kustomize",
		requires: "sigs.k8s.io/kustomize/kustomize/v5",
		packages: []string{"sigs.k8s.io/kustomize/kustomize/v5"},
		// kustomize reads its version from the module build info, as `go install` of a release does.
		ldflags: func(string) string { return "-s -w" },
		set:     "kustomize",
	},
	{
		module:   "registry",
		requires: "github.com/google/go-containerregistry",
		packages: []string{"github.com/google/go-containerregistry/cmd/registry"},
		ldflags:  func(string) string { return "-s -w" },
		set:      "registry",
	},
	// Flux, which e2e runs on the hub to sync a fleet from Git (flux.go). Both controllers build from
	// one module and so share a dependency graph; on demand, since a cold build takes minutes.
	{
		module:   "flux",
		requires: "github.com/fluxcd/source-controller",
		packages: []string{"github.com/fluxcd/source-controller"},
		ldflags:  func(string) string { return "-s -w" },
		set:      fluxSet,
		onDemand: true,
	},
	{
		module:   "flux",
		requires: "github.com/fluxcd/kustomize-controller",
		packages: []string{"github.com/fluxcd/kustomize-controller"},
		ldflags:  func(string) string { return "-s -w" },
		set:      fluxSet,
		onDemand: true,
	},
}

// builtName is the file `go build -o DIR/` writes for a package: a major-version suffix is skipped.
func builtName(pkg string) string {
	if base := filepath.Base(pkg); !regexp.MustCompile(`^v[0-9]+$`).MatchString(base) {
		return base
	}
	return filepath.Base(filepath.Dir(pkg))
}

// binaryName is the name the cache keeps a package's binary under.
func binaryName(pkg string) string {
	if pkg == "go.etcd.io/etcd/server/v3" {
		return "etcd"
	}
	return builtName(pkg)
}

// kubeLdflags stamps the release into the binaries so /version reports it, as a released build does.
func kubeLdflags(version string) string {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	stamp := func(pkg, key, value string) string { return fmt.Sprintf(" -X %s.%s=%s", pkg, key, value) }
	flags := "-s -w"
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags += stamp(pkg, "gitVersion", version) + stamp(pkg, "gitMajor", parts[0]) + stamp(pkg, "gitMinor", parts[1]) +
			stamp(pkg, "gitTreeState", "clean") + stamp(pkg, "buildDate", "1970-01-01T00:00:00Z")
	}
	return flags
}

// helmLdflags stamps the release as helm's Makefile does for a tagged build, so `helm version` and
// the User-Agent helm sends to chart repositories and registries name it.
func helmLdflags(version string) string {
	const pkg = "helm.sh/helm/v4/internal/version"
	return "-s -w -X " + pkg + ".version=" + version + " -X " + pkg + ".metadata= -X " + pkg + ".gitTreeState=clean"
}

// pinnedVersion asks go which version a component's go.mod requires, so go.mod stays the one place to pin.
func pinnedVersion(env *environment, c component) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", c.requires)
	cmd.Dir = filepath.Join(env.hackDir, c.module)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("read the pinned version of %s in hack/testenv/%s: %w", c.requires, c.module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// setDir is the cache folder of one set of components, named after all their pinned versions.
func setDir(env *environment, set string) (string, error) {
	var key []string
	for _, c := range components {
		if c.set != set {
			continue
		}
		v, err := pinnedVersion(env, c)
		if err != nil {
			return "", err
		}
		if k := c.module + "-" + v; !slices.Contains(key, k) {
			key = append(key, k)
		}
	}
	return filepath.Join(env.cacheDir, "bin", strings.Join(key, "_")), nil
}

// binDir is the cache folder of the control plane's binaries.
func binDir(env *environment) (string, error) {
	return setDir(env, planeSet)
}

const stagesFile = "kwok-stages.yaml"

// kwokStages are the stage files kwok ships, read from the pinned kwok module: nodes become Ready
// and heartbeat through Leases; pods become Running and Ready, Jobs' pods complete, deletes finish.
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// build makes every missing binary of the pinned versions, except on-demand sets not named in with,
// and returns the control plane's folder; present binaries are never rebuilt.
func build(env *environment, with []string) (string, error) {
	for _, c := range components {
		if c.onDemand && !slices.Contains(with, c.set) {
			continue
		}
		if _, err := buildComponent(env, c); err != nil {
			return "", err
		}
	}
	dir, err := binDir(env)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, stagesFile)); err != nil {
		if err := writeKwokStages(env, dir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// binaryPath returns the absolute path of one cached binary, building its component first if needed.
func binaryPath(env *environment, name string) (string, error) {
	var known []string
	for _, c := range components {
		for _, pkg := range c.packages {
			if binaryName(pkg) != name {
				known = append(known, binaryName(pkg))
				continue
			}
			dir, err := buildComponent(env, c)
			if err != nil {
				return "", err
			}
			return filepath.Join(dir, name), nil
		}
	}
	return "", fmt.Errorf("no binary named %q; the pinned ones are %s", name, strings.Join(known, ", "))
}

// buildComponent builds a component's binaries unless all are present, and returns its set's folder.
// The build goes to a staging folder first, so a cached binary is always a complete one.
func buildComponent(env *environment, c component) (string, error) {
	dir, err := setDir(env, c.set)
	if err != nil {
		return "", err
	}
	missing := false
	for _, pkg := range c.packages {
		if _, err := os.Stat(filepath.Join(dir, binaryName(pkg))); err != nil {
			missing = true
		}
	}
	if !missing {
		return dir, nil
	}
	version, err := pinnedVersion(env, c)
	if err != nil {
		return "", err
	}
	started := time.Now()
	logf("building %s %s (%s)", c.module, version, strings.Join(c.packages, " "))
	staging, err := os.MkdirTemp(env.cacheDir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staging)
	args := append([]string{"build", "-trimpath", "-ldflags", c.ldflags(version), "-o", staging + "/"}, c.packages...)
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join(env.hackDir, c.module)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build in hack/testenv/%s: %w", c.module, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, pkg := range c.packages {
		if err := os.Rename(filepath.Join(staging, builtName(pkg)), filepath.Join(dir, binaryName(pkg))); err != nil {
			return "", err
		}
	}
	logf("built %s %s in %s", c.module, version, time.Since(started).Round(time.Second))
	return dir, nil
}

func writeKwokStages(env *environment, dir string) error {
	kwokDir, err := moduleDir(env, "kwok", "sigs.k8s.io/kwok")
	if err != nil {
		return err
	}
	var docs []string
	for _, stage := range kwokStages {
		data, err := os.ReadFile(filepath.Join(kwokDir, stage))
		if err != nil {
			return err
		}
		docs = append(docs, strings.TrimSpace(string(data)))
	}
	return os.WriteFile(filepath.Join(dir, stagesFile), []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}
