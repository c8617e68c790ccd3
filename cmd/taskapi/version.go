package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// versionText is what "taskapi version" prints, read from the build
// information the go command embeds: the module's version ("(devel)" for a
// build from a checkout), and, unless built with -buildvcs=false (as
// scripts/test.sh does) or outside a repository, the commit and its time.
// Go records no build time of its own; the commit time stands for it.
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "taskapi: no build information (not built by the go command in module mode)\n"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "taskapi %s\n", bi.Main.Version)
	commit, when := settings["vcs.revision"], settings["vcs.time"]
	switch {
	case commit == "":
		commit = "unknown (built without VCS information)"
	case settings["vcs.modified"] == "true":
		commit += " (with uncommitted changes)"
	}
	if when == "" {
		when = "unknown"
	}
	fmt.Fprintf(&b, "  commit: %s\n", commit)
	fmt.Fprintf(&b, "  time:   %s (commit time)\n", when)
	platform := settings["GOOS"] + "/" + settings["GOARCH"]
	if tags := settings["-tags"]; tags != "" {
		platform += ", tags " + tags
	}
	fmt.Fprintf(&b, "  go:     %s %s\n", bi.GoVersion, platform)
	return b.String()
}

// moduleVersion is the module's version alone (the traces' service.version).
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Version
	}
	return ""
}
