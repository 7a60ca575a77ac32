// The health of every flotilla kind in every state its controllers produce, as the tools users
// put on top of flotilla judge it: kstatus (sigs.k8s.io/cli-utils, what Flux and kpt run) and Argo
// CD's Lua health scripts (run with gopher-lua, the engine Argo CD embeds). The objects are the
// controllers' own output captured on real planes (capture.ts, `make health-fixtures`); each
// fixture names the verdicts a user wants, and a library that disagrees is a bug in flotilla.
package health

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

const (
	fixturesDir  = "../../test/health/fixtures"
	argocdConfig = "../../deploy/argocd/argocd-cm.yaml"
	healthKey    = "resource.customizations.health.flotilla.dev_"
)

type fixture struct {
	Kind        string `json:"kind"`
	State       string `json:"state"`
	Description string `json:"description"`
	Expected    struct {
		KStatus string `json:"kstatus"`
		ArgoCD  string `json:"argocd"`
	} `json:"expected"`
	RawObject json.RawMessage `json:"object"`
	// Decoded as client-go decodes what the apiserver sends (integers as int64), as Flux and Argo CD read it.
	Object map[string]interface{} `json:"-"`
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under %s (make health-fixtures captures them): %v", fixturesDir, err)
	}
	var all []fixture
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f fixture
		if err := yaml.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var object unstructured.Unstructured
		if err := object.UnmarshalJSON(f.RawObject); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		f.Object = object.Object
		if f.Kind != filepath.Base(filepath.Dir(file)) || f.Object["kind"] != f.Kind {
			t.Fatalf("%s: holds a %v, not a %s", file, f.Object["kind"], f.Kind)
		}
		all = append(all, f)
	}
	return all
}

// The states every kind is captured in; a kind missing one was not driven through it.
var everyKind = []string{"unobserved", "ready", "deleting"}

func TestEveryKindIsCapturedInItsStates(t *testing.T) {
	states := map[string]map[string]bool{}
	for _, f := range loadFixtures(t) {
		if states[f.Kind] == nil {
			states[f.Kind] = map[string]bool{}
		}
		states[f.Kind][f.State] = true
	}
	want := map[string][]string{
		"Fleet":         {"progressing", "paused-member", "stalled"},
		"MemberCluster": {"joining", "paused", "stalled"},
		"ClusterGroup":  {"stalled"},
		"GlobalService": {"progressing", "halted", "refused", "awaiting-approval", "paused", "source-failing"},
		"PolicyBundle":  {"progressing", "stalled"},
		"Work":          {"progressing", "degraded"},
	}
	for kind, extra := range want {
		for _, state := range append(append([]string{}, everyKind...), extra...) {
			if !states[kind][state] {
				t.Errorf("no fixture for %s in state %s", kind, state)
			}
		}
	}
}

func TestKStatus(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.Kind+"/"+f.State, func(t *testing.T) {
			result, err := status.Compute(&unstructured.Unstructured{Object: f.Object})
			if err != nil {
				t.Fatal(err)
			}
			if got := result.Status.String(); got != f.Expected.KStatus {
				t.Errorf("%s %s (%s): kstatus reads %s (%q), a user wants %s", f.Kind, f.State, f.Description, got, result.Message, f.Expected.KStatus)
			}
		})
	}
}

// The scripts exactly as a user pastes them into argocd-cm.
func healthScripts(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(argocdConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{}
	for key, script := range cm.Data {
		if !strings.HasPrefix(key, healthKey) {
			t.Fatalf("argocd-cm key %s is not a flotilla.dev health customization", key)
		}
		scripts[strings.TrimPrefix(key, healthKey)] = script
	}
	return scripts
}

// argoHealth runs a health script the way Argo CD does: the object, decoded from JSON into Lua
// tables, as the global `obj`, in a state with only the libraries Argo CD opens for health
// scripts (package, base, table), and the returned table's status and message read back.
func argoHealth(script string, obj map[string]interface{}) (string, string, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	return lua.LVAsString(table.RawGetString("status")), lua.LVAsString(table.RawGetString("message")), nil
}

func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case []interface{}:
		t := l.NewTable()
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.NewTable()
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	default:
		panic(fmt.Sprintf("no Lua value for %T", value))
	}
}

func TestArgoCDHealth(t *testing.T) {
	scripts := healthScripts(t)
	fixtures := loadFixtures(t)
	kinds := map[string]bool{}
	for _, f := range fixtures {
		kinds[f.Kind] = true
		t.Run(f.Kind+"/"+f.State, func(t *testing.T) {
			script, ok := scripts[f.Kind]
			if !ok {
				t.Fatalf("argocd-cm has no health script for %s", f.Kind)
			}
			got, message, err := argoHealth(script, f.Object)
			if err != nil {
				t.Fatal(err)
			}
			if got != f.Expected.ArgoCD {
				t.Errorf("%s %s (%s): Argo CD reads %s (%q), a user wants %s", f.Kind, f.State, f.Description, got, message, f.Expected.ArgoCD)
			}
			if message == "" {
				t.Errorf("%s %s: %s without a message", f.Kind, f.State, got)
			}
		})
	}
	var unjudged []string
	for kind := range scripts {
		if !kinds[kind] {
			unjudged = append(unjudged, kind)
		}
	}
	sort.Strings(unjudged)
	if len(unjudged) > 0 {
		t.Errorf("health scripts without a captured object to test them on: %v", unjudged)
	}
}
