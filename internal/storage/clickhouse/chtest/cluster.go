// Package chtest runs a throw-away ClickHouse cluster for tests: Debian's
// ZooKeeper and two clickhouse-server 18.16 processes on loopback, each
// on free ports in a temporary directory, stopped when the test ends.
//
// The cluster has two layouts over the same two servers:
// "spans_cluster" is one shard of two replicas (replicated tables use the
// {shard} macro, 01 on both), "two_shards" is two shards of one replica
// (use the {two_shard} macro, 01 and 02, in the replica path).
//
// Like net/http/httptest, this is a test-support package: it imports
// "testing" and must only be imported from _test.go files.
package chtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cluster layouts and the ZooKeeper path prefix that goes with each.
const (
	Replicated          = "spans_cluster"
	ReplicatedPath      = "/clickhouse/tables/{shard}"
	TwoShards           = "two_shards"
	TwoShardsPath       = "/clickhouse/tables/{two_shard}"
	clickhouseServerBin = "/usr/sbin/clickhouse-server"
	zookeeperJar        = "/usr/share/java/zookeeper.jar"
)

// Cluster is ZooKeeper and two ClickHouse servers.
type Cluster struct {
	t     testing.TB
	dir   string
	zk    *exec.Cmd
	zkEnd chan struct{}
	nodes [2]*node
}

type node struct {
	dir              string
	tcp, http, inter int
	cmd              *exec.Cmd
	exited           chan struct{}
}

// Available reports whether the binaries the cluster needs are installed,
// and if not, what is missing.
func Available() (bool, string) {
	var missing []string
	for _, p := range []string{clickhouseServerBin, zookeeperJar} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java")
	}
	if len(missing) > 0 {
		return false, "missing " + strings.Join(missing, ", ") + " (apt-get install clickhouse-server zookeeper)"
	}
	return true, ""
}

// Start starts ZooKeeper and both servers and waits until ON CLUSTER DDL
// works; t's cleanup stops them.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if ok, why := Available(); !ok {
		t.Fatalf("chtest: %s", why)
	}
	c := &Cluster{t: t, dir: t.TempDir()}
	ports := freePorts(t, 7)
	zkPort := ports[0]
	for i := range c.nodes {
		c.nodes[i] = &node{dir: filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)), tcp: ports[1+3*i], http: ports[2+3*i], inter: ports[3+3*i]}
	}
	t.Cleanup(c.stop)
	c.startZooKeeper(zkPort)
	for i := range c.nodes {
		c.writeConfig(i, zkPort)
		c.Start(i)
	}
	// The DDL worker creates /clickhouse/task_queue/ddl once its ZooKeeper
	// session is up; before that ON CLUSTER DDL fails.
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range c.nodes {
		for {
			out, err := n.query("SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/task_queue' AND name = 'ddl'")
			if err == nil && strings.TrimSpace(out) == "1" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("chtest: the DDL worker of %s did not connect to ZooKeeper: %v %s", n.dir, err, c.logs())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return c
}

// DSN returns the native-protocol DSN of server i (0 or 1).
func (c *Cluster) DSN(i int) string {
	return fmt.Sprintf("clickhouse://127.0.0.1:%d/default", c.nodes[i].tcp)
}

// FailoverDSN returns a DSN naming server i first and the other second.
func (c *Cluster) FailoverDSN(i int) string {
	return fmt.Sprintf("clickhouse://127.0.0.1:%d,127.0.0.1:%d/default?connection_open_strategy=in_order&dial_timeout=2s",
		c.nodes[i].tcp, c.nodes[1-i].tcp)
}

// Query runs a query on server i over HTTP and returns its TSV output.
func (c *Cluster) Query(i int, q string) (string, error) { return c.nodes[i].query(q) }

func (n *node) query(q string) (string, error) {
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/", n.http), "text/plain", strings.NewReader(q))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b.String())
	}
	return b.String(), nil
}

// Kill stops server i with SIGKILL, as a crash would.
func (c *Cluster) Kill(i int) {
	n := c.nodes[i]
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Kill()
	<-n.exited
	n.cmd = nil
}

// Start (re)starts server i on its directory and waits until it answers.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	cmd := exec.Command(clickhouseServerBin, "--config-file="+filepath.Join(n.dir, "config.xml"), "--",
		"--path="+n.dir+"/data/", "--tmp_path="+n.dir+"/data/tmp/", "--user_files_path="+n.dir+"/data/user_files/",
		"--format_schema_path="+n.dir+"/data/format_schemas/",
		fmt.Sprintf("--tcp_port=%d", n.tcp), fmt.Sprintf("--http_port=%d", n.http),
		fmt.Sprintf("--interserver_http_port=%d", n.inter), "--interserver_http_host=127.0.0.1", "--listen_host=127.0.0.1",
		"--logger.log="+n.dir+"/server.log", "--logger.errorlog="+n.dir+"/err.log")
	out, err := os.OpenFile(filepath.Join(n.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("chtest: start clickhouse-server: %v", err)
	}
	out.Close()
	n.cmd, n.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(n.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ping", n.http))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-n.exited:
			c.t.Fatalf("chtest: clickhouse-server %d exited at start: %s", i+1, c.logs())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("chtest: clickhouse-server %d did not answer: %s", i+1, c.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) writeConfig(i, zkPort int) {
	n := c.nodes[i]
	if err := os.MkdirAll(filepath.Join(n.dir, "config.d"), 0o755); err != nil {
		c.t.Fatal(err)
	}
	for _, f := range []string{"config.xml", "users.xml"} {
		b, err := os.ReadFile("/etc/clickhouse-server/" + f)
		if err != nil {
			c.t.Fatal(err)
		}
		if f == "users.xml" {
			// LowCardinality is experimental in 18.16, and ON CLUSTER DDL
			// runs with the server's default profile.
			b = []byte(strings.Replace(string(b), "<default>", "<default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>", 1))
		}
		if err := os.WriteFile(filepath.Join(n.dir, f), b, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	a, b := c.nodes[0].tcp, c.nodes[1].tcp
	cfg := fmt.Sprintf(`<yandex>
  <zookeeper><node><host>127.0.0.1</host><port>%[1]d</port></node></zookeeper>
  <macros><shard>01</shard><two_shard>0%[2]d</two_shard><replica>r%[2]d</replica></macros>
  <remote_servers>
    <%[3]s><shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>%[4]d</port></replica>
      <replica><host>127.0.0.1</host><port>%[5]d</port></replica></shard></%[3]s>
    <%[6]s>
      <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>%[4]d</port></replica></shard>
      <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>%[5]d</port></replica></shard></%[6]s>
  </remote_servers>
</yandex>
`, zkPort, i+1, Replicated, a, b, TwoShards)
	if err := os.WriteFile(filepath.Join(n.dir, "config.d", "cluster.xml"), []byte(cfg), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *Cluster) startZooKeeper(port int) {
	c.t.Helper()
	conf := filepath.Join(c.dir, "zk", "conf")
	data := filepath.Join(c.dir, "zk", "data")
	for _, d := range []string{conf, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	if b, err := os.ReadFile("/etc/zookeeper/conf/log4j.properties"); err == nil {
		os.WriteFile(filepath.Join(conf, "log4j.properties"), b, 0o644)
	}
	cfg := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr\n", data, port)
	if err := os.WriteFile(filepath.Join(conf, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		c.t.Fatal(err)
	}
	// NB: Debian's zkServer.sh ignores ZOOCFGDIR; run the JVM directly.
	cmd := exec.Command("java", "-Xmx256m", "-cp", conf+":"+zookeeperJar, "org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(conf, "zoo.cfg"))
	out, err := os.Create(filepath.Join(c.dir, "zk", "stdout.log"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("chtest: start zookeeper: %v", err)
	}
	out.Close()
	c.zk, c.zkEnd = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(c.zkEnd) }()
	// NB: 18.16 segfaults on ON CLUSTER DDL when its first ZooKeeper
	// session failed; an open port, even "ruok", is not enough. Wait
	// until "srvr" reports a Mode: ZooKeeper is serving.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if zkServing(port) {
			return
		}
		select {
		case <-c.zkEnd:
			c.t.Fatalf("chtest: zookeeper exited: %s", c.logs())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("chtest: zookeeper did not start: %s", c.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func zkServing(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("srvr")); err != nil {
		return false
	}
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Mode:") {
			return true
		}
	}
	return false
}

// logs returns the tails of the servers' logs, for failure messages.
func (c *Cluster) logs() string {
	var b strings.Builder
	for _, f := range []string{"zk/stdout.log", "n1/stdout.log", "n1/err.log", "n2/stdout.log", "n2/err.log"} {
		data, err := os.ReadFile(filepath.Join(c.dir, f))
		if err != nil {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "\n--- %s:\n%s", f, data)
	}
	return b.String()
}

// stop ends every process the cluster started, by its own handle.
func (c *Cluster) stop() {
	for _, n := range c.nodes {
		if n != nil && n.cmd != nil {
			n.cmd.Process.Signal(os.Interrupt)
			select {
			case <-n.exited:
			case <-time.After(15 * time.Second):
				n.cmd.Process.Kill()
				<-n.exited
			}
			n.cmd = nil
		}
	}
	if c.zk != nil {
		c.zk.Process.Kill()
		<-c.zkEnd
		c.zk = nil
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		var lc net.ListenConfig
		l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
