package deploy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No GitHub runner and no cluster here: these tests read the files as YAML
// and check that their parts fit: the matrix against the --shard of each
// job, each shard's report against its artifact, the merge against what
// the shards upload; the Indexed Job against --shard auto/n, its reports
// against the merge Job and the volume claim.

type node = map[string]any

func load(t *testing.T, file string) []node {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseAll(t, file, b)
}

func parseAll(t *testing.T, name string, b []byte) []node {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	var docs []node
	for {
		var d node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", name)
	}
	return docs
}

// get walks keys (strings for maps, ints for lists); nil when absent.
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(node)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func list(v any) []any { l, _ := v.([]any); return l }

// problems collects what does not fit.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(p, "; "))
}

var shardFlag = regexp.MustCompile(`--shard[ =]\$\{\{ *matrix\.shard *\}\}/(\d+)`)
var reportFlag = regexp.MustCompile(`--report[ =]"?([^"\s]+)"?`)

// expand replaces ${{ matrix.x }} and $var references a step defines with
// sample values, for matching names against patterns.
func expand(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\{\{ *matrix\.(\w+) *\}\}`).ReplaceAllStringFunc(s, func(m string) string {
		k := regexp.MustCompile(`matrix\.(\w+)`).FindStringSubmatch(m)[1]
		if v, ok := vars[k]; ok {
			return v
		}
		return m
	})
}

// checkWorkflow checks the sharded workflow's wiring.
func checkWorkflow(wf node) error {
	var p problems
	jobs, _ := get(wf, "jobs").(node)
	var shardJob, mergeJob string
	for name, j := range jobs {
		if get(j, "strategy", "matrix", "shard") != nil {
			shardJob = name
		}
		for _, st := range list(get(j, "steps")) {
			if strings.Contains(str(get(st, "run")), "report --merge") {
				mergeJob = name
			}
		}
	}
	if shardJob == "" || mergeJob == "" {
		p.add("want a job with a shard matrix (found %q) and a job that runs report --merge (found %q)", shardJob, mergeJob)
		return p.err()
	}
	sj, mj := jobs[shardJob], jobs[mergeJob]
	m := get(sj, "strategy", "matrix")
	sdks, shards := list(get(m, "sdk")), list(get(m, "shard"))
	if len(sdks) == 0 {
		p.add("the matrix has no sdk")
	}
	for i, s := range shards {
		if str(s) != fmt.Sprint(i+1) {
			p.add("matrix.shard is %v: want 1..n in order", shards)
			break
		}
	}
	if ff := get(sj, "strategy", "fail-fast"); ff != false {
		p.add("fail-fast is %v: one shard's FAILED would cancel the others, and the merge would lack them", ff)
	}
	// Every matrix key a step uses is defined for every sdk.
	defined := map[string]map[string]bool{}
	for _, inc := range list(get(m, "include")) {
		for k := range inc.(node) {
			if defined[k] == nil {
				defined[k] = map[string]bool{}
			}
			defined[k][str(get(inc, "sdk"))] = true
		}
	}
	var runText string
	var uploads []any
	for _, st := range list(get(sj, "steps")) {
		runText += str(get(st, "run")) + "\n"
		if strings.HasPrefix(str(get(st, "uses")), "actions/upload-artifact@") {
			uploads = append(uploads, st)
		}
	}
	for _, ref := range regexp.MustCompile(`matrix\.(\w+)`).FindAllStringSubmatch(runText, -1) {
		k := ref[1]
		if k == "sdk" || k == "shard" {
			continue
		}
		for _, s := range sdks {
			if !defined[k][str(s)] {
				p.add("matrix.%s is not defined for sdk %v", k, s)
			}
		}
	}
	sm := shardFlag.FindStringSubmatch(runText)
	switch {
	case sm == nil:
		p.add("no faultline run --shard ${{ matrix.shard }}/n in the shard job")
	case sm[1] != fmt.Sprint(len(shards)):
		p.add("--shard .../%s but the matrix has %d shards", sm[1], len(shards))
	}
	// The report folder: the run's --report, maybe through a shell variable.
	report := ""
	if rm := reportFlag.FindStringSubmatch(runText); rm != nil {
		report = rm[1]
		if v := regexp.MustCompile(`^\$\{?(\w+)\}?$`).FindStringSubmatch(report); v != nil {
			if def := regexp.MustCompile(v[1] + `="?([^"\n]+)"?`).FindStringSubmatch(runText); def != nil {
				report = def[1]
			}
		}
	}
	if report == "" {
		p.add("the shard job's run has no --report")
	}
	cell := map[string]string{"sdk": str(get(sdks, 0)), "shard": "1"}
	var artifact string
	for _, up := range uploads {
		if str(get(up, "with", "path")) == report {
			artifact = str(get(up, "with", "name"))
			if get(up, "if") != "always()" {
				p.add("the report's upload runs only on success: a shard with a FAILED (exit 1) is the one to see")
			}
		}
	}
	if artifact == "" {
		p.add("no upload-artifact step uploads the report folder %q", report)
	} else if !strings.Contains(artifact, "matrix.sdk") || !strings.Contains(artifact, "matrix.shard") {
		p.add("artifact name %q does not name both sdk and shard: the cells would overwrite each other", artifact)
	}
	// The merge job waits for the shards and merges what they uploaded.
	needs := get(mj, "needs")
	if str(needs) != shardJob && !containsStr(list(needs), shardJob) {
		p.add("the merge job does not need %q", shardJob)
	}
	var pattern, into, mergeOut, summaryFrom string
	for _, st := range list(get(mj, "steps")) {
		if strings.HasPrefix(str(get(st, "uses")), "actions/download-artifact@") {
			pattern, into = str(get(st, "with", "pattern")), str(get(st, "with", "path"))
		}
		run := str(get(st, "run"))
		if strings.Contains(run, "report --merge") {
			if !strings.Contains(run, into+"/*/report.json") {
				p.add("the merge does not read %s/*/report.json: %q", into, run)
			}
			if om := regexp.MustCompile(`--out[ =](\S+)`).FindStringSubmatch(run); om != nil {
				mergeOut = om[1]
			}
		}
		if strings.Contains(run, "$GITHUB_STEP_SUMMARY") {
			summaryFrom = run
		}
	}
	if pattern == "" {
		p.add("the merge job downloads no artifacts")
	} else if ok, _ := path.Match(pattern, expand(artifact, cell)); !ok {
		p.add("download pattern %q does not match the shards' artifact %q", pattern, expand(artifact, cell))
	}
	if mergeOut == "" || !strings.Contains(summaryFrom, mergeOut+"/summary.md") {
		p.add("the job summary is not the merge's %s/summary.md: %q", mergeOut, summaryFrom)
	}
	// Actions are pinned to a major version at least.
	for name, j := range jobs {
		for _, st := range list(get(j, "steps")) {
			if u := str(get(st, "uses")); u != "" && !strings.Contains(u, "@") {
				p.add("job %s: %s is not pinned", name, u)
			}
		}
	}
	return p.err()
}

func containsStr(l []any, s string) bool {
	for _, v := range l {
		if str(v) == s {
			return true
		}
	}
	return false
}

func TestGitHubWorkflow(t *testing.T) {
	wf := load(t, "github-actions.yml")[0]
	if err := checkWorkflow(wf); err != nil {
		t.Fatal(err)
	}
}

// Each mistake the check exists for, made in a copy of the workflow.
func TestGitHubWorkflowCheckCatchesMistakes(t *testing.T) {
	raw, err := os.ReadFile("github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(wf node){
		"four shards, /3": func(wf node) {
			get(wf, "jobs", "shard", "strategy", "matrix").(node)["shard"] = []any{1, 2, 3, 4}
		},
		"shards out of order": func(wf node) {
			get(wf, "jobs", "shard", "strategy", "matrix").(node)["shard"] = []any{1, 3, 2}
		},
		"fail-fast": func(wf node) { get(wf, "jobs", "shard", "strategy").(node)["fail-fast"] = true },
		"merge does not wait": func(wf node) {
			delete(get(wf, "jobs", "merge").(node), "needs")
		},
		"one artifact name": func(wf node) {
			for _, st := range list(get(wf, "jobs", "shard", "steps")) {
				if w, ok := get(st, "with").(node); ok && w["name"] != nil {
					w["name"] = "report-${{ matrix.sdk }}"
				}
			}
		},
		"upload only on success": func(wf node) {
			for _, st := range list(get(wf, "jobs", "shard", "steps")) {
				if strings.HasPrefix(str(get(st, "uses")), "actions/upload-artifact@") {
					delete(st.(node), "if")
				}
			}
		},
		"pattern misses": func(wf node) {
			for _, st := range list(get(wf, "jobs", "merge", "steps")) {
				if w, ok := get(st, "with").(node); ok && w["pattern"] != nil {
					w["pattern"] = "reports-*"
				}
			}
		},
		"driver undefined for node": func(wf node) {
			m := get(wf, "jobs", "shard", "strategy", "matrix").(node)
			m["include"] = list(m["include"])[:1]
		},
		"summary from elsewhere": func(wf node) {
			for _, st := range list(get(wf, "jobs", "merge", "steps")) {
				if strings.Contains(str(get(st, "run")), "GITHUB_STEP_SUMMARY") {
					st.(node)["run"] = `cat out/summary.md >> "$GITHUB_STEP_SUMMARY"`
				}
			}
		},
	} {
		wf := parseAll(t, name, raw)[0]
		edit(wf)
		if err := checkWorkflow(wf); err == nil {
			t.Errorf("%s: the check passed", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// manifests are the Kubernetes files, by kind and name.
type manifests struct {
	pvc          node
	shards, merg node
}

func loadManifests(t *testing.T, files map[string][]byte) manifests {
	t.Helper()
	var m manifests
	for name, b := range files {
		for _, d := range parseAll(t, name, b) {
			switch kind := str(d["kind"]); {
			case kind == "PersistentVolumeClaim":
				m.pvc = d
			case kind == "Job" && get(d, "spec", "completionMode") != nil:
				m.shards = d
			case kind == "Job":
				m.merg = d
			}
		}
	}
	return m
}

func readManifests(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func argsOf(c any) []string {
	var out []string
	for _, a := range list(get(c, "args")) {
		out = append(out, str(a))
	}
	return out
}

// mountOf is where container c mounts the pod's claim named claim ("" if not).
func mountOf(pod, c any, claim string) string {
	vol := ""
	for _, v := range list(get(pod, "volumes")) {
		if str(get(v, "persistentVolumeClaim", "claimName")) == claim {
			vol = str(get(v, "name"))
		}
	}
	for _, vm := range list(get(c, "volumeMounts")) {
		if vol != "" && str(get(vm, "name")) == vol {
			return str(get(vm, "mountPath"))
		}
	}
	return ""
}

func checkManifests(m manifests) error {
	var p problems
	if m.pvc == nil || m.shards == nil || m.merg == nil {
		return fmt.Errorf("want a PersistentVolumeClaim, an Indexed Job and a merge Job; have pvc %v, shards %v, merge %v", m.pvc != nil, m.shards != nil, m.merg != nil)
	}
	if str(m.pvc["apiVersion"]) != "v1" {
		p.add("the claim's apiVersion is %v", m.pvc["apiVersion"])
	}
	claim := str(get(m.pvc, "metadata", "name"))
	for _, j := range []node{m.shards, m.merg} {
		if str(j["apiVersion"]) != "batch/v1" {
			p.add("job %s: apiVersion %v, want batch/v1", str(get(j, "metadata", "name")), j["apiVersion"])
		}
		if rp := str(get(j, "spec", "template", "spec", "restartPolicy")); rp != "Never" {
			p.add("job %s: restartPolicy %q: a rerun in place would overwrite a report", str(get(j, "metadata", "name")), rp)
		}
	}
	spec := get(m.shards, "spec")
	if str(get(spec, "completionMode")) != "Indexed" {
		p.add("completionMode %v, want Indexed", get(spec, "completionMode"))
	}
	n, _ := get(spec, "completions").(int)
	if n < 1 {
		p.add("completions %v", get(spec, "completions"))
	}
	if par, _ := get(spec, "parallelism").(int); par != n {
		p.add("parallelism %v, completions %d: the shards would run in waves", get(spec, "parallelism"), n)
	}
	pod := get(spec, "template", "spec")
	c := get(pod, "containers", 0)
	args := argsOf(c)
	joined := " " + strings.Join(args, " ") + " "
	if !strings.Contains(joined, fmt.Sprintf(" --shard=auto/%d ", n)) && !strings.Contains(joined, fmt.Sprintf(" --shard auto/%d ", n)) {
		p.add("the shard container does not run --shard auto/%d: %v", n, args)
	}
	for _, rule := range list(get(spec, "podFailurePolicy", "rules")) {
		if cn := str(get(rule, "onExitCodes", "containerName")); cn != "" && cn != str(get(c, "name")) {
			p.add("podFailurePolicy names container %q, the container is %q", cn, str(get(c, "name")))
		}
		if str(get(rule, "action")) == "FailIndex" && get(spec, "backoffLimitPerIndex") == nil {
			p.add("FailIndex needs backoffLimitPerIndex")
		}
	}
	hasIndex := false
	for _, e := range list(get(c, "env")) {
		if str(get(e, "name")) == "JOB_COMPLETION_INDEX" &&
			strings.Contains(str(get(e, "valueFrom", "fieldRef", "fieldPath")), "job-completion-index") {
			hasIndex = true
		}
	}
	if !hasIndex {
		p.add("the shard container does not declare JOB_COMPLETION_INDEX from the pod's completion index")
	}
	mount := mountOf(pod, c, claim)
	if mount == "" {
		p.add("the shard container does not mount claim %q", claim)
	}
	report := ""
	for _, a := range args {
		if r, ok := strings.CutPrefix(a, "--report="); ok {
			report = r
		}
	}
	if !strings.HasPrefix(report, mount+"/") || !strings.Contains(report, "$(JOB_COMPLETION_INDEX)") {
		p.add("the shards' --report %q is not a per-index folder on the claim (mounted at %q)", report, mount)
	}
	// The merge reads exactly the n shards' reports, on the same claim.
	mpod := get(m.merg, "spec", "template", "spec")
	mc := get(mpod, "containers", 0)
	mmount := mountOf(mpod, mc, claim)
	if mmount == "" {
		p.add("the merge container does not mount claim %q", claim)
	}
	margs := argsOf(mc)
	if len(margs) < 2 || margs[0] != "report" || margs[1] != "--merge" {
		p.add("the merge container does not run report --merge: %v", margs)
	}
	var want, got []string
	for i := range n {
		want = append(want, strings.Replace(report, mount, mmount, 1)+"/report.json")
		want[i] = strings.ReplaceAll(want[i], "$(JOB_COMPLETION_INDEX)", fmt.Sprint(i))
	}
	for _, a := range margs {
		if strings.HasSuffix(a, "report.json") {
			got = append(got, a)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		p.add("the merge reads %v, the shards write %v", got, want)
	}
	for _, cc := range []any{c, mc} {
		if img := str(get(cc, "image")); !strings.HasPrefix(img, "faultline") {
			p.add("container %s runs image %q", str(get(cc, "name")), img)
		}
	}
	return p.err()
}

func TestKubernetesManifests(t *testing.T) {
	if err := checkManifests(loadManifests(t, readManifests(t))); err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesCheckCatchesMistakes(t *testing.T) {
	for name, edit := range map[string]func(m manifests){
		"not indexed":      func(m manifests) { get(m.shards, "spec").(node)["completionMode"] = "NonIndexed" },
		"four completions": func(m manifests) { get(m.shards, "spec").(node)["completions"] = 4 },
		"waves":            func(m manifests) { get(m.shards, "spec").(node)["parallelism"] = 1 },
		"batch/v2":         func(m manifests) { m.merg["apiVersion"] = "batch/v2" },
		"merge reads two": func(m manifests) {
			c := get(m.merg, "spec", "template", "spec", "containers", 0).(node)
			c["args"] = list(c["args"])[:4]
		},
		"another claim":     func(m manifests) { get(m.pvc, "metadata").(node)["name"] = "other" },
		"no index env":      func(m manifests) { delete(get(m.shards, "spec", "template", "spec", "containers", 0).(node), "env") },
		"restart in place":  func(m manifests) { get(m.shards, "spec", "template", "spec").(node)["restartPolicy"] = "OnFailure" },
		"one report folder": func(m manifests) { setArg(m.shards, "--report=", "--report=/reports/shard") },
		"shard i/n by hand": func(m manifests) { setArg(m.shards, "--shard=", "--shard=1/3") },
	} {
		m := loadManifests(t, readManifests(t))
		edit(m)
		if err := checkManifests(m); err == nil {
			t.Errorf("%s: the check passed", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func setArg(job node, prefix, to string) {
	c := get(job, "spec", "template", "spec", "containers", 0).(node)
	args := list(c["args"])
	for i, a := range args {
		if strings.HasPrefix(str(a), prefix) {
			args[i] = to
		}
	}
}
