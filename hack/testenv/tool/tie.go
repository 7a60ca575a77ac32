package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// tie runs a command until it exits, this process is signalled or killed, or the owner process
// ends, so that a server a test starts (the loopback OCI registry) never outlives the test run,
// however the run ends. It returns the command's exit code.
func tie(ownerPID int, args []string) (int, error) {
	if len(args) == 0 {
		return 0, errors.New("tie needs a command to run")
	}
	// Pdeathsig follows the thread that started the child: keep this goroutine on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() {
		ownerCheck := time.NewTicker(500 * time.Millisecond)
		defer ownerCheck.Stop()
		for {
			select {
			case <-exited:
				return
			case sig := <-signals:
				_ = cmd.Process.Signal(sig)
			case <-ownerCheck.C:
				if ownerPID > 0 && !alive(ownerPID) {
					logf("owner process %d is gone; stopping %s", ownerPID, args[0])
					_ = cmd.Process.Kill()
				}
			}
		}
	}()
	err := cmd.Wait()
	close(exited)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			return 128 + int(status.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}
