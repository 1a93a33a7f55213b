package app

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// platformMay refuses, on Windows itself, every command that would reach a
// cluster or write progress: there labs' file locks (progress, the cluster's
// create) and process groups (a solution's script stopped by Ctrl-C) do
// nothing, so two commands could corrupt each other's state. What only
// reads the built-in labs works. WSL 2 is a Linux, where everything does.
func platformMay(goos string, cmd *cobra.Command) error {
	if goos != "windows" {
		return nil
	}
	// The subcommand: the first word after "labs" ("" for labs itself).
	first, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), "labs"), " "), " ")
	switch first {
	case "", "help", "version", "list", "show", "lint", "completion", "__complete", "__completeNoDesc":
		return nil
	}
	return fmt.Errorf("%s does not run on Windows itself yet (its progress and cluster locks need Linux or macOS).\n"+
		"Run labs in WSL 2 instead: `wsl --install`, then in the Linux shell install the linux/amd64 release,\n"+
		"with Docker Desktop's WSL integration on (Settings → Resources → WSL integration)", cmd.CommandPath())
}
