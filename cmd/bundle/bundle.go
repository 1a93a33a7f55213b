// Package bundle is `labs bundle create|import`: a class's labs on a USB
// stick, for a room without Internet.
package bundle

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/buildinfo"
	"github.com/labs-dev/labs/runner/bundle"
	"github.com/labs-dev/labs/runner/docker"
)

// NewCommand returns `labs bundle` and its subcommands.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Put the labs on a USB stick for a room without Internet (instructors)",
		Long: `labs bundle create DIR writes what a laptop needs to run the labs with no
network: the labs binaries, the kind node image, the workload images, a
README and SHA256SUMS. On each laptop, labs bundle import DIR checks every
file and loads the node image into Docker; labs start then needs no network.`,
	}
	cmd.AddCommand(newCreate(f), newImport(f))
	return cmd
}

func newCreate(f *cmdutil.Factory) *cobra.Command {
	var binaries string
	cmd := &cobra.Command{
		Use:   "create DIR",
		Short: "Write a bundle into the new folder DIR",
		Long: `Write a bundle into DIR, which must not exist or be empty: this labs binary
(and with --binaries every release build in that folder, as 'make release'
writes to dist/), the node image labs starts clusters with (--node-image,
else the default; it must be in Docker here), the workload images, a README
and SHA256SUMS. About 500 MB; a minute or two. Ctrl-C leaves nothing.`,
		Example: "  labs bundle create /media/stick/labs --binaries dist",
		Args:    cmdutil.ExactArgs(1, "labs bundle create DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the labs binary: %w", err)
			}
			d := docker.New()
			defer d.Close()
			disp := f.Display()
			o := bundle.CreateOptions{Dir: args[0], NodeImage: f.DefaultNodeImage(), Self: exe, Binaries: binaries,
				Build: buildinfo.Get(f.Version), Progress: disp.Status}
			m, err := bundle.Create(cmd.Context(), d, o)
			if err != nil {
				return err
			}
			bins := fmt.Sprintf("%d binaries", len(m.Binaries))
			if len(m.Binaries) == 1 {
				bins = "1 binary"
			}
			disp.Done(fmt.Sprintf("bundle written to %s: %s, node image %s", args[0], bins, m.NodeImage))
			fmt.Fprintf(f.Streams.Out, "Bundle ready in %s. On each laptop: labs bundle import %s (see its README.txt).\n", args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&binaries, "binaries", "", "a folder of release builds to include (GoReleaser's dist/)")
	return cmd
}

func newImport(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "import DIR",
		Short: "Check a bundle and load its node image into Docker",
		Long: `Check every file of the bundle in DIR against its SHA256SUMS (a missing,
truncated or changed file is named and nothing is loaded), load the node
image into Docker, and make it the node image labs starts clusters with.`,
		Args: cmdutil.ExactArgs(1, "labs bundle import DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			d := docker.New()
			defer d.Close()
			disp := f.Display()
			m, err := bundle.Import(cmd.Context(), d, args[0], disp.Status)
			if err != nil {
				return err
			}
			if err := runner.SetDefaultNodeImage(paths, m.NodeImage); err != nil {
				return err
			}
			disp.Done(fmt.Sprintf("node image %s loaded and made labs' default", m.NodeImage))
			for _, v := range []string{"LABS_NODE_IMAGE", "KIND_NODE_IMAGE"} {
				if img := f.Getenv(v); img != "" && img != m.NodeImage {
					fmt.Fprintf(f.Streams.ErrOut, "note: $%s=%s comes first; unset it to start clusters with the imported image\n", v, img)
				}
			}
			fmt.Fprintln(f.Streams.Out, "Ready: `labs start selfhealing` needs no network now.")
			return nil
		},
	}
}
