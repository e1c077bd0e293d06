package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/cuttleprint/cuttle/pkg/auth"
	"github.com/cuttleprint/cuttle/pkg/store"
)

// runUser is `cuttle user add|apikey|list`: headless account set-up on a
// stopped cuttle (the data dir is locked while serve runs).
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: cuttle user add|apikey|list [--data-dir DIR] [args]")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, args[1:], stdin, stdout, stderr)
	case "apikey":
		return userAPIKey(ctx, args[1:], stdout, stderr)
	case "list":
		return userList(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown user subcommand %q (add, apikey, list)", args[0])
}

func openAuth(ctx context.Context, dir string) (*store.DB, *auth.Service, error) {
	db, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return db, auth.NewService(db, auth.Options{}), nil
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, dir := newFlags("user add", stderr)
	admin := fs.Bool("admin", false, "make the user an admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: cuttle user add [--data-dir DIR] [--admin] NAME  (password on stdin)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("no password on stdin")
	}
	db, svc, err := openAuth(ctx, *dir)
	if err != nil {
		return err
	}
	defer db.Close()
	groups := []string{auth.GroupUsers}
	if *admin {
		groups = []string{auth.GroupAdmins, auth.GroupUsers}
	}
	u, err := svc.AddUser(ctx, auth.NewUser{Name: fs.Arg(0), Password: pw, Groups: groups, Active: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added user %s (groups %s)\n", u.Name, strings.Join(u.Groups, ","))
	return nil
}

func userAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dir := newFlags("user apikey", stderr)
	regen := fs.Bool("new", false, "replace an existing key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: cuttle user apikey [--data-dir DIR] [--new] NAME")
	}
	db, svc, err := openAuth(ctx, *dir)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := svc.User(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	key := u.APIKey
	if key == "" || *regen {
		if key, err = svc.GenerateKey(ctx, u.Name); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, key)
	return nil
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dir := newFlags("user list", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, svc, err := openAuth(ctx, *dir)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := svc.Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tACTIVE\tGROUPS\tAPIKEY")
	for _, u := range users {
		hasKey := "no"
		if u.APIKey != "" {
			hasKey = "yes"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", u.Name, u.Active, strings.Join(u.Groups, ","), hasKey)
	}
	return tw.Flush()
}
