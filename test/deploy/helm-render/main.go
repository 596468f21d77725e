// A stand-in for `helm template`, for tests on machines without helm: renders a chart with Go's
// text/template, the sprig function library and Helm's own additions (include, required, tpl,
// toYaml, fromYaml, toJson, fromJson), the way helm.sh/helm/v3/pkg/engine does.
//
// Usage: helm-render <chart dir> <release name> <namespace> < values.json
// (values already merged and schema-checked by the caller; JSON numbers are float64, as in Helm)
// Prints a JSON object: template path -> rendered text.
//
// Built in GOPATH mode from Debian's packages: golang-go golang-github-masterminds-sprig-dev
// golang-gopkg-yaml.v3-dev (see test/deploy/helm-render.test.ts).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type files map[string][]byte

// Get returns a file of the chart as a string (empty when absent), like Helm's .Files.Get.
func (f files) Get(name string) string { return string(f[name]) }

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: helm-render <chart dir> <release> <namespace> < values.json")
		os.Exit(2)
	}
	chartDir, release, namespace := os.Args[1], os.Args[2], os.Args[3]

	var values map[string]interface{}
	if err := json.NewDecoder(os.Stdin).Decode(&values); err != nil {
		fail("values: %v", err)
	}
	var chartMeta map[string]interface{}
	raw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		fail("%v", err)
	}
	if err := yaml.Unmarshal(raw, &chartMeta); err != nil {
		fail("Chart.yaml: %v", err)
	}
	chartName := fmt.Sprint(chartMeta["name"])
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		chart[strings.ToUpper(k[:1])+k[1:]] = v // .Chart.AppVersion, .Chart.Name, ...
	}

	chartFiles := files{}
	var templates []string
	err = filepath.Walk(chartDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "templates/") {
			templates = append(templates, rel)
		} else {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			chartFiles[rel] = data
		}
		return nil
	})
	if err != nil {
		fail("%v", err)
	}
	sort.Strings(templates)

	root := template.New("root")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf(msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["lookup"] = func(...interface{}) map[string]interface{} { return map[string]interface{}{} }
	root.Funcs(funcs).Option("missingkey=zero")

	for _, rel := range templates {
		text, err := os.ReadFile(filepath.Join(chartDir, rel))
		if err != nil {
			fail("%v", err)
		}
		if _, err := root.New(chartName + "/" + rel).Parse(string(text)); err != nil {
			fail("parse %s: %v", rel, err)
		}
	}

	out := map[string]string{}
	for _, rel := range templates {
		if strings.HasPrefix(filepath.Base(rel), "_") {
			continue
		}
		name := chartName + "/" + rel
		ctx := map[string]interface{}{
			"Values":  values,
			"Chart":   chart,
			"Files":   chartFiles,
			"Release": map[string]interface{}{"Name": release, "Namespace": namespace, "Revision": 1, "IsInstall": true, "IsUpgrade": false, "Service": "Helm"},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{"Version": "v1.32.0", "Major": "1", "Minor": "32", "GitVersion": "v1.32.0"},
				"APIVersions": []string{},
			},
			"Template": map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, ctx); err != nil {
			fail("render %s: %v", rel, err)
		}
		out[rel] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", args...)
	os.Exit(1)
}
