package infratest_test

import (
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
		{"SameFlagsAsTheEmulatorTest", strings.Contains(build, "go build -trimpath -ldflags='-s -w' -tags lambda.norpc,lambdaenv "), "the go build flags differ from the emulator test's " + strings.Join(lambdaBuild.args, " ")},
		{"BuildsCmdTaskapi", strings.HasSuffix(build, "./cmd/taskapi"), "the go build does not build ./cmd/taskapi"},
		{"BootstrapInRuntimeDir", strings.Contains(df, "COPY --from=build /out/bootstrap /var/runtime/bootstrap"), "the binary is not copied to /var/runtime/bootstrap"},
		{"ArchitectureFromPlatform", strings.Contains(build, "GOARCH=$TARGETARCH"), "GOARCH does not follow the --platform the image is built for"},
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
