// compose-validate loads Compose files with compose-go, the loader Docker Compose v2 itself uses, and prints
// the resolved project as JSON (or the loader's error, exit 1). The tests run it because there is no Docker
// engine on CI machines: it checks what `docker compose config` would (schema, key names, types, durations,
// depends_on conditions, interpolation) and hands the normalized model back for checks of our own.
//
// Usage: compose-validate [-profile name]... [-env KEY=VALUE]... file.yml [override.yml...]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var profiles, env multi
	flag.Var(&profiles, "profile", "profile to enable (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE for interpolation (repeatable); the process environment is not used")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-validate [-profile p] [-env K=V] file.yml...")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(
		flag.Args(),
		// Only the variables given: a developer's shell must not make a broken file pass.
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
		cli.WithName("validate"),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
	fmt.Println()
}
