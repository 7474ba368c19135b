package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// container is what the deploy files say about one ledger process.
type container struct {
	where string
	args  []string          // after the entrypoint
	env   map[string]string // LEDGER_* variables it gets
	ports []int             // ports it publishes or is probed on
}

var envRef = regexp.MustCompile(`\[(LEDGER_[A-Z_]+)\]`)

// accepted runs `ledger ARGS --help`: it fails when a flag or subcommand is
// unknown, and lists the variables the subcommand reads.
func accepted(t *testing.T, args []string) (vars []string, ok bool) {
	t.Helper()
	var out, errOut syncBuffer
	err := run(context.Background(), append(slices.Clone(args), "--help"), func(string) string { return "" }, &out, &errOut)
	if err != nil {
		return nil, false
	}
	for _, m := range envRef.FindAllStringSubmatch(out.String(), -1) { // help is on stdout
		vars = append(vars, m[1])
	}
	return vars, true
}

func checkContainer(t *testing.T, c container) []string {
	t.Helper()
	vars, ok := accepted(t, c.args)
	if !ok {
		t.Errorf("%s: `ledger %s` is not a valid command line", c.where, strings.Join(c.args, " "))
		return nil
	}
	for name := range c.env {
		if !slices.Contains(vars, name) {
			t.Errorf("%s: sets %s, which `ledger %s` does not read", c.where, name, c.args[0])
		}
	}
	addr, ok := c.env["LEDGER_ADDR"]
	if len(c.ports) > 0 && !ok {
		t.Errorf("%s: publishes ports %v but does not set LEDGER_ADDR", c.where, c.ports)
	}
	for _, p := range c.ports {
		if !strings.HasSuffix(addr, ":"+strconv.Itoa(p)) {
			t.Errorf("%s: port %d, but LEDGER_ADDR=%q", c.where, p, addr)
		}
	}
	return vars
}

func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, x.(string))
	}
	return out
}

func asList(v any) []any         { l, _ := v.([]any); return l }
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestDeployCompose(t *testing.T) {
	for _, file := range []string{"docker-compose.yml", "docker-compose.kurrentdb.yml"} {
		doc := readYAML(t, filepath.Join("..", "..", "deploy", file))[0]
		found := 0
		for name, svc := range asMap(doc["services"]) {
			s := asMap(svc)
			if s["build"] == nil {
				continue // not ours
			}
			found++
			c := container{where: file + " " + name, args: strs(s["command"]), env: map[string]string{}}
			for k, v := range asMap(s["environment"]) {
				if strings.HasPrefix(k, "LEDGER_") {
					c.env[k] = v.(string)
				}
			}
			for _, p := range strs(s["ports"]) {
				parts := strings.Split(p, ":")
				c.ports = append(c.ports, atoi(t, parts[len(parts)-1]))
			}
			checkContainer(t, c)
		}
		if found == 0 {
			t.Errorf("%s: no ledger service", file)
		}
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("port %q is not a number", s)
	}
	return n
}

func TestDeployKubernetes(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "k8s")
	shared := map[string]string{}
	for _, name := range []string{"configmap.yaml", "secret.yaml"} {
		for _, doc := range readYAML(t, filepath.Join(dir, name)) {
			for _, key := range []string{"data", "stringData"} {
				for k, v := range asMap(doc[key]) {
					shared[k], _ = v.(string)
				}
			}
		}
	}
	kinds := map[string]int{}
	read := map[string]bool{} // variables some container with the shared config reads
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, path := range files {
		for _, doc := range readYAML(t, path) {
			kind, _ := doc["kind"].(string)
			kinds[kind]++
			if kind == "HorizontalPodAutoscaler" {
				ref := asMap(asMap(doc["spec"])["scaleTargetRef"])
				if ref["name"] != "promiseledger-api" {
					t.Errorf("the HPA scales %v, not the API", ref["name"])
				}
			}
			pod := asMap(asMap(asMap(doc["spec"])["template"])["spec"])
			for _, ct := range asList(pod["containers"]) {
				for _, v := range checkPodContainer(t, filepath.Base(path), asMap(ct), shared) {
					read[v] = true
				}
			}
		}
	}
	for k := range shared {
		if !read[k] {
			t.Errorf("the ConfigMap or Secret sets %s, which no ledger command reads", k)
		}
	}
	for _, want := range []string{"Deployment", "Job", "HorizontalPodAutoscaler", "ConfigMap", "Secret", "Service"} {
		if kinds[want] == 0 {
			t.Errorf("no %s in deploy/k8s", want)
		}
	}
}

// checkPodContainer checks a pod's container and returns the variables its
// command reads. Variables from the shared ConfigMap and Secret need only be
// read by some container (TestDeployKubernetes checks that); its own env
// must be read by it.
func checkPodContainer(t *testing.T, file string, ct map[string]any, shared map[string]string) []string {
	t.Helper()
	c := container{where: file + " " + ct["name"].(string), args: strs(ct["args"]), env: map[string]string{}}
	if len(asList(ct["envFrom"])) == 0 && len(shared) > 0 {
		t.Errorf("%s: does not take the shared ConfigMap and Secret", c.where)
	}
	for _, e := range asList(ct["env"]) {
		m := asMap(e)
		c.env[m["name"].(string)], _ = m["value"].(string)
	}
	for _, p := range asList(ct["ports"]) {
		c.ports = append(c.ports, asMap(p)["containerPort"].(int))
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		get := asMap(asMap(ct[probe])["httpGet"])
		if get == nil {
			continue
		}
		c.ports = append(c.ports, get["port"].(int))
		path := get["path"].(string)
		if path != "/healthz" && path != "/readyz" {
			t.Errorf("%s: %s probes %s, which the ledger does not serve", c.where, probe, path)
		}
		if path == "/readyz" && slices.Contains(c.args, "--projectors-only") {
			t.Errorf("%s: a projector-only process serves no /readyz", c.where)
		}
	}
	if c.args[0] == "serve" && slices.Contains(c.args, "--api-only") && asMap(ct["readinessProbe"]) == nil {
		t.Errorf("%s: the API has no readiness probe", c.where)
	}
	return checkContainer(t, c)
}

func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var expose, addr, user string
	var cmd []string
	stages := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "FROM "):
			stages++
		case strings.HasPrefix(line, "EXPOSE "):
			expose = strings.TrimPrefix(line, "EXPOSE ")
		case strings.HasPrefix(line, "ENV LEDGER_ADDR="):
			addr = strings.TrimPrefix(line, "ENV LEDGER_ADDR=")
		case strings.HasPrefix(line, "USER "):
			user = strings.TrimPrefix(line, "USER ")
		case strings.HasPrefix(line, "CMD "):
			if err := yaml.Unmarshal([]byte(strings.TrimPrefix(line, "CMD ")), &cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	if stages < 2 {
		t.Error("the Dockerfile is not multi-stage")
	}
	if user == "" || strings.HasPrefix(user, "root") {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	checkContainer(t, container{where: "Dockerfile", args: cmd, env: map[string]string{"LEDGER_ADDR": addr}, ports: []int{atoi(t, expose)}})
}
