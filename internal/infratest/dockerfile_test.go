package infratest_test

import (
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
)

// lambdaBuild is how the Dockerfile builds the Lambda binary; the emulator
// test builds it the same way, and TestDockerfile checks the Dockerfile
// still says so.
var lambdaBuild = struct {
	env  []string
	args []string
}{
	env:  []string{"CGO_ENABLED=0"},
	args: []string{"build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc,lambdaenv"},
}

func TestDockerfile_BuildsWhatTheEmulatorTestRuns(t *testing.T) {
	df := readFile(t, "Dockerfile")
	// Instructions only, continuation lines joined.
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(df, "\\\n", " "), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	var from []string
	var build string
	for _, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			from = append(from, l)
		}
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			build = l
		}
	}
	tests := []struct {
		name string
		ok   bool
		why  string
	}{
		{"MultiStage", len(from) == 2, "want a Go builder stage and the Lambda base image"},
		{"GoBuilder", len(from) > 0 && regexp.MustCompile(`^FROM (--platform=\S+ )?golang:1\.\d+`).MatchString(from[0]), "builder is not an official golang image"},
		{"LambdaBaseImage", len(from) == 2 && strings.HasPrefix(from[1], "FROM public.ecr.aws/lambda/provided:al2023"), "final stage is not public.ecr.aws/lambda/provided:al2023"},
		{"StaticBinary", strings.Contains(build, strings.Join(lambdaBuild.env, " ")), "the go build does not set " + strings.Join(lambdaBuild.env, " ")},
		{"SameFlagsAsTheEmulatorTest", strings.Contains(build, `go build -trimpath -ldflags='-s -w' -tags "$GO_TAGS" `) && strings.Contains(df, "\nARG GO_TAGS=lambda.norpc,lambdaenv\n"),
			"the go build flags (with GO_TAGS's default) differ from the emulator test's " + strings.Join(lambdaBuild.args, " ")},
		{"BuildsCmdTaskapi", strings.HasSuffix(build, "./cmd/taskapi"), "the go build does not build ./cmd/taskapi"},
		{"BootstrapInRuntimeDir", strings.Contains(df, "COPY --from=build /out/bootstrap /var/runtime/bootstrap"), "the binary is not copied to /var/runtime/bootstrap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("Dockerfile: %s\nbuild step: %s", tc.why, build)
			}
		})
	}

	ignore := readFile(t, ".dockerignore")
	for _, must := range []string{".git", ".cache", "terraform/", "*.tfstate", "data/"} {
		if !strings.Contains(ignore, must+"\n") {
			t.Errorf(".dockerignore does not exclude %s", must)
		}
	}
}

// dockerStage is one FROM ... stage of a Dockerfile.
type dockerStage struct {
	from     string             // the FROM instruction
	platform string             // its --platform flag, "" for none
	args     map[string]*string // ARGs declared in the stage: name -> default (nil: none)
	runs     []string           // RUN instructions, continuation lines joined
}

// parseDockerfile splits a Dockerfile into its stages (instructions only,
// comments dropped, continuation lines joined).
func parseDockerfile(tb testing.TB, df string) []dockerStage {
	tb.Helper()
	var stages []dockerStage
	for _, l := range strings.Split(strings.ReplaceAll(df, "\\\n", " "), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			st := dockerStage{from: l, args: map[string]*string{}}
			for _, f := range strings.Fields(rest) {
				if p, ok := strings.CutPrefix(f, "--platform="); ok {
					st.platform = p
				}
			}
			stages = append(stages, st)
		case "ARG":
			if len(stages) == 0 {
				tb.Errorf("Dockerfile: global ARG %q: a global platform ARG with a default would override --platform", rest)
				continue
			}
			name, def, hasDefault := strings.Cut(rest, "=")
			if hasDefault {
				stages[len(stages)-1].args[name] = &def
			} else {
				stages[len(stages)-1].args[name] = nil
			}
		case "RUN":
			if len(stages) > 0 {
				stages[len(stages)-1].runs = append(stages[len(stages)-1].runs, rest)
			}
		}
	}
	return stages
}

// buildArgValue is the value BuildKit gives $name in stage st when the
// image is built with --platform os/arch: an automatic platform ARG takes
// the platform only when the stage declares it without a default (a
// declared default wins, docker/buildx#510); undeclared, it is empty.
func buildArgValue(st dockerStage, name, platform string) string {
	def, declared := st.args[name]
	if !declared {
		return ""
	}
	if def != nil {
		return *def
	}
	goos, arch, _ := strings.Cut(platform, "/")
	switch name {
	case "TARGETPLATFORM":
		return platform
	case "TARGETOS":
		return goos
	case "TARGETARCH":
		return arch
	}
	return ""
}

// TestDockerfile_BinaryMatchesThePlatform evaluates the Dockerfile the way
// BuildKit does, for each Lambda architecture (terraform variable
// architecture): the builder runs on the build machine's platform and the
// go build targets the platform the image is built for.
func TestDockerfile_BinaryMatchesThePlatform(t *testing.T) {
	stages := parseDockerfile(t, readFile(t, "Dockerfile"))
	var build *dockerStage
	for i, st := range stages {
		for _, r := range st.runs {
			if strings.Contains(r, "go build") {
				build = &stages[i]
			}
		}
	}
	if build == nil || len(stages) < 2 {
		t.Fatalf("Dockerfile: want a stage running go build and a final stage, got %d stages", len(stages))
	}
	t.Run("BuilderRunsNatively", func(t *testing.T) {
		if build.platform != "$BUILDPLATFORM" {
			t.Errorf("build stage %q: want --platform=$BUILDPLATFORM (cross-compile, no emulation)", build.from)
		}
	})
	t.Run("FinalStageFollowsPlatform", func(t *testing.T) {
		if final := stages[len(stages)-1]; final.platform != "" {
			t.Errorf("final stage %q pins its platform: the image would not follow --platform", final.from)
		}
	})
	t.Run("PlatformArgsHaveNoDefault", func(t *testing.T) {
		for _, name := range []string{"TARGETOS", "TARGETARCH"} {
			if def, ok := build.args[name]; ok && def != nil {
				t.Errorf("ARG %s=%s: the default wins over --platform (docker/buildx#510)", name, *def)
			}
		}
	})

	goEnv := regexp.MustCompile(`\b(GOOS|GOARCH)=(\S+)`)
	for _, tc := range []struct{ architecture, platform string }{
		{"arm64", "linux/arm64"},
		{"x86_64", "linux/amd64"},
	} {
		t.Run(tc.architecture+"/GoBuildTargetsThePlatform", func(t *testing.T) {
			got := map[string]string{}
			for _, r := range build.runs {
				if !strings.Contains(r, "go build") {
					continue
				}
				for _, m := range goEnv.FindAllStringSubmatch(r, -1) {
					got[m[1]] = os.Expand(m[2], func(name string) string { return buildArgValue(*build, name, tc.platform) })
				}
			}
			want := map[string]string{"GOOS": "linux", "GOARCH": strings.TrimPrefix(tc.platform, "linux/")}
			if !maps.Equal(got, want) {
				t.Errorf("docker buildx build --platform %s (architecture = %q) builds bootstrap for %v, want %v", tc.platform, tc.architecture, got, want)
			}
		})
	}
}
