package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// applyDefaults fills every flag that was not given on the command line
// from the environment (CLEW_<NAME>, dashes as underscores) and then from
// the YAML file named by the config flag, in that order of precedence:
// command line, environment, file, built-in default.
func applyDefaults(fs *flag.FlagSet, configFlag string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var file map[string]any
	if path := fs.Lookup(configFlag).Value.String(); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
	}
	var errs []error
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		known[f.Name] = true
		if set[f.Name] {
			return
		}
		env := "CLEW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			return
		}
		if v, ok := lookupFile(file, f.Name); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("config file key %s: %w", f.Name, err))
			}
		}
	})
	var unknown []string
	for k := range file {
		if !known[strings.ReplaceAll(k, "_", "-")] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		errs = append(errs, fmt.Errorf("config file: unknown keys %s", strings.Join(unknown, ", ")))
	}
	return errors.Join(errs...)
}

// lookupFile finds a flag's value in the parsed YAML, accepting the flag
// name with dashes or underscores. Lists are joined with commas, the form
// list flags take on the command line.
func lookupFile(file map[string]any, name string) (string, bool) {
	v, ok := file[name]
	if !ok {
		v, ok = file[strings.ReplaceAll(name, "-", "_")]
	}
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ","), true
	}
	return fmt.Sprint(v), true
}
