// Command tenure is Tenure's single binary: CLI and server.
package main

import (
	"context"
	"os"

	"github.com/tenure-id/tenure/pkg/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
