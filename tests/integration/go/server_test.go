// server_test.go - runs the server under test as a child process for the
// nats.go integration tests: a free loopback port, a log file in the test's
// temp dir (printed when the test fails), a bounded stop that fails the test
// on a crash or any unclean exit.
//
// The binary comes from MN_TEST_SERVER (run_go.sh sets it from the ctest
// argument unless the caller already did).
package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type server struct {
	t        *testing.T
	bin      string
	conf     string // config file passed with -c, or ""

	port     int
	log      string
	cmd      *exec.Cmd
	done     chan struct{}
	state    *os.ProcessState
	sentTerm bool
}

// isNatsServer tells the reference server apart from modnats by what
// --version prints (MN_TEST_FLAVOUR overrides).
func isNatsServer(bin string) bool {
	if f := os.Getenv("MN_TEST_FLAVOUR"); f != "" {
		return strings.Contains(f, "nats-server")
	}
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	s := strings.ToLower(string(out))
	if strings.Contains(s, "modnats") {
		return false
	}
	if strings.Contains(s, "nats-server") {
		return true
	}
	return strings.Contains(filepath.Base(bin), "nats-server")
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts the server and registers its stop with t.Cleanup.
func startServer(t *testing.T) *server {
	t.Helper()
	bin := os.Getenv("MN_TEST_SERVER")
	if bin == "" {
		t.Fatal("MN_TEST_SERVER is not set (run through run_go.sh / ctest)")
	}
	s := &server{t: t, bin: bin, port: freePort(t), log: filepath.Join(t.TempDir(), "server.log")}
	s.start()
	t.Cleanup(func() {
		if !s.stop() || t.Failed() {
			s.printLog()
		}
	})
	return s
}

// startServerConf starts the server on a config file holding text
// (nats-server's format, which both servers read).
func serverBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MN_TEST_SERVER")
	if bin == "" {
		t.Fatal("MN_TEST_SERVER is not set (run through run_go.sh / ctest)")
	}
	return bin
}

func startServerConf(t *testing.T, text string) *server {
	t.Helper()
	return startServerConfBin(t, serverBin(t), text)
}

// startServerConfBin: the same with a given binary (mixed clusters).
func startServerConfBin(t *testing.T, bin, text string) *server {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(conf, []byte(text), 0644); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: bin, conf: conf, port: freePort(t), log: filepath.Join(dir, "server.log")}
	s.start()
	t.Cleanup(func() {
		if !s.stop() || t.Failed() {
			s.printLog()
		}
	})
	return s
}

func (s *server) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *server) start() {
	s.t.Helper()
	lf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		s.t.Fatalf("log file: %v", err)
	}
	defer lf.Close()
	args := []string{"-a", "127.0.0.1", "-p", fmt.Sprint(s.port)}
	if s.conf != "" {
		args = append([]string{"-c", s.conf}, args...)
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.sentTerm = false
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting %s: %v", s.bin, err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.done)

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.printLog()
			s.t.Fatalf("server exited during startup: %v", s.cmd.ProcessState)
		default:
		}
		if accepting(s.port) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.cmd.Process.Kill()
	<-s.done
	s.printLog()
	s.t.Fatalf("server did not come up on port %d", s.port)
}

// accepting: a connection gets an INFO line.
func accepting(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "INFO ")
}

// stop sends SIGTERM, waits up to 10 s, then SIGKILL.  True when the exit
// was clean: code 0, death by our SIGTERM, or (nats-server only) code 1,
// which is how the reference answers SIGTERM.
func (s *server) stop() bool {
	if s.cmd == nil {
		return true
	}
	select {
	case <-s.done:
	default:
		s.sentTerm = true
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			s.t.Errorf("server ignored SIGTERM for 10 s")
			s.cmd = nil
			return false
		}
	}
	st := s.cmd.ProcessState
	s.cmd = nil
	ws := st.Sys().(syscall.WaitStatus)
	clean := (ws.Exited() && ws.ExitStatus() == 0) ||
		(s.sentTerm && ws.Signaled() && ws.Signal() == syscall.SIGTERM) ||
		(s.sentTerm && ws.Exited() && ws.ExitStatus() == 1 && isNatsServer(s.bin))
	if data, err := os.ReadFile(s.log); err == nil {
		for _, bad := range []string{"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer"} {
			if strings.Contains(string(data), bad) {
				clean = false
			}
		}
	}
	if !clean {
		s.t.Errorf("server did not exit cleanly: %v", st)
	}
	return clean
}

// restart runs the server again on the same port.
func (s *server) restart() {
	s.t.Helper()
	if !s.stop() {
		s.t.Fatal("server did not stop cleanly before restart")
	}
	s.start()
}

func (s *server) printLog() {
	data, err := os.ReadFile(s.log)
	if err != nil {
		s.t.Logf("no server log: %v", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	s.t.Logf("last lines of %s:\n%s", s.log, strings.Join(lines, "\n"))
}
