//! Hosts of a test's own: network namespaces plugged into bridges of this machine, each host a
//! machine with its own addresses and ports. The test process sits on each bridge's own address:
//! as the database host (start PostgreSQL and Redis with `Lan::net`: `crate::postgres_also_on`,
//! `crate::redis_also_on`) and as the players' client. What travels between hosts crosses network
//! interfaces, not loopback: a node's advertised address, a redirect to another node's gateway, a
//! client's address as a node sees it; and a host's cable can be pulled (`Lan::cut`), which
//! drops packets instead of refusing connections, as a lost network does.
//!
//! Needs root (CAP_NET_ADMIN) and iproute2's `ip` (`cargo xtask setup` installs it). Names carry
//! the test process's id (`rk{pid}`); what a killed test process left behind is removed by the
//! next one that makes a network.

use realmkeep_launcher::PrivateNet;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Mutex;

/// Hosts one network holds besides the bridge's own address (its /24 has room for 253).
pub const HOSTS_MAX: u8 = 200;
/// Networks and hosts one test process makes (names are `rk{pid}` and a number below it: an
/// interface's name has at most 15 characters).
pub const NAMES_MAX: u32 = 999;
/// The first two octets of the networks made here: each is a /24 of 10.213.0.0/16 that no
/// interface of this machine uses.
const NET_OCTETS: [u8; 2] = [10, 213];
/// Names made here start with this, then the process id.
const NAME_PREFIX: &str = "rk";

/// The longest process id (`/proc/sys/kernel/pid_max` is at most 2^22, seven digits).
const PID_DIGITS_MAX: usize = 7;
/// An interface's name: at most 15 bytes (`IFNAMSIZ` less its NUL).
const IFNAME_BYTES_MAX: usize = 15;
const _: () = assert!(
    NAME_PREFIX.len() + PID_DIGITS_MAX + 1 + 3 <= IFNAME_BYTES_MAX && NAMES_MAX < 1_000,
    "a name made here fits an interface name"
);

static NEXT_NAME: AtomicU32 = AtomicU32::new(0);
/// Held from a network's choice of subnet until its bridge has the address: two networks made at
/// once do not take the same /24.
static CHOOSING: Mutex<()> = Mutex::new(());

/// A new name `rk{pid}{kind}{n}`: unique in this process, within an interface name's 15 bytes.
fn new_name(kind: char) -> String {
    let n = NEXT_NAME.fetch_add(1, Ordering::SeqCst);
    assert!(n < NAMES_MAX, "at most {NAMES_MAX} names per test process");
    format!("{NAME_PREFIX}{}{kind}{n}", std::process::id())
}

/// A bridge on this machine, with this machine's address on a /24 of its own; removed on drop.
pub struct Lan {
    bridge: String,
    net: PrivateNet,
    next: AtomicU8,
    /// The outer end of each host's cable, by the host's namespace.
    cables: Mutex<HashMap<String, String>>,
}

/// A network namespace: a host with its own interfaces, addresses and ports (`Lan::plug`);
/// removed on drop.
pub struct Host {
    netns: String,
}

/// Runs `ip ARGS`; panics with `ip`'s own words and what the test needs when it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`ip` runs (Debian's iproute2; `cargo xtask setup`): {e}"));
    assert!(
        out.status.success(),
        "`ip {}` failed: {}(the hosts of this test are network namespaces: it needs root, CAP_NET_ADMIN)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What `ip ARGS` printed (empty when it failed).
fn ip_output(args: &[&str]) -> String {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// The process id in a name made here (`rk{pid}...`), if it is one.
fn owner(name: &str) -> Option<u32> {
    let digits: String = name
        .strip_prefix(NAME_PREFIX)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Removes the namespaces and bridges of test processes that are gone.
fn remove_leftovers() {
    let dead = |name: &str| {
        owner(name).is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
    };
    for line in ip_output(&["netns", "list"]).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        if dead(name) {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
    for line in ip_output(&["-o", "link", "show", "type", "bridge"]).lines() {
        // "12: rk1234n0: <BROADCAST,...> ..."
        let name = line.split(": ").nth(1).unwrap_or_default();
        if dead(name) {
            let _ = Command::new("ip").args(["link", "del", name]).status();
        }
    }
}

/// A /24 of 10.213.0.0/16 that no interface of this machine has an address in, starting from
/// one the process id picks (concurrent test processes then rarely look at the same one first).
fn unused_subnet() -> u8 {
    let used = ip_output(&["-4", "-o", "addr", "show"]);
    let start = (std::process::id() % 256) as u8;
    (0..=255u8)
        .map(|i| start.wrapping_add(i))
        .find(|x| !used.contains(&format!(" {}.{}.{x}.", NET_OCTETS[0], NET_OCTETS[1])))
        .expect("a free /24 in 10.213.0.0/16")
}

impl Lan {
    /// A new bridge with this machine's address (`.1`) on a free /24.
    pub fn new() -> Lan {
        remove_leftovers();
        let bridge = new_name('n');
        let _choosing = CHOOSING.lock().unwrap_or_else(|p| p.into_inner());
        let x = unused_subnet();
        let address = Ipv4Addr::new(NET_OCTETS[0], NET_OCTETS[1], x, 1);
        ip(&["link", "add", &bridge, "type", "bridge"]);
        let lan = Lan {
            bridge,
            net: PrivateNet {
                address,
                prefix: 24,
            },
            next: AtomicU8::new(2),
            cables: Mutex::new(HashMap::new()),
        };
        ip(&["addr", "add", &format!("{address}/24"), "dev", &lan.bridge]);
        ip(&["link", "set", &lan.bridge, "up"]);
        lan
    }

    /// This machine's side of the network: the address its servers listen on for the hosts.
    pub fn net(&self) -> PrivateNet {
        self.net
    }

    /// This machine's address on the network.
    pub fn address(&self) -> Ipv4Addr {
        self.net.address
    }

    /// Plugs `host` into this network with a cable of its own (a veth pair whose outer end is on
    /// the bridge): the host's address on it, the next free one.
    pub fn plug(&self, host: &Host) -> Ipv4Addr {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        assert!(
            n - 1 <= HOSTS_MAX,
            "at most {HOSTS_MAX} hosts on one network"
        );
        let [a, b, x, _] = self.net.address.octets();
        let address = Ipv4Addr::new(a, b, x, n);
        let (outside, inside) = (new_name('c'), new_name('i'));
        let ns = host.netns.as_str();
        let plugged = self.lock().insert(host.netns.clone(), outside.clone());
        assert!(plugged.is_none(), "one cable per host and network");
        ip(&[
            "link", "add", &outside, "type", "veth", "peer", "name", &inside, "netns", ns,
        ]);
        ip(&["link", "set", &outside, "master", &self.bridge]);
        ip(&["link", "set", &outside, "up"]);
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            &inside,
        ]);
        ip(&["-n", ns, "link", "set", &inside, "up"]);
        address
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.cables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The outer end of `host`'s cable to this network.
    fn cable(&self, host: &Host) -> String {
        self.lock()
            .get(&host.netns)
            .cloned()
            .expect("the host is plugged into this network")
    }

    /// Pulls `host`'s cable to this network: its packets are lost, not refused (connections
    /// hang until it is plugged back, as over a lost network).
    pub fn cut(&self, host: &Host) {
        ip(&["link", "set", &self.cable(host), "down"]);
    }

    /// Plugs `host`'s cable back in after `cut`.
    pub fn mend(&self, host: &Host) {
        ip(&["link", "set", &self.cable(host), "up"]);
    }
}

impl Default for Lan {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}

impl Host {
    /// A new host with only its loopback interface (`Lan::plug` gives it others).
    pub fn new() -> Host {
        remove_leftovers();
        let host = Host {
            netns: new_name('h'),
        };
        ip(&["netns", "add", &host.netns]);
        ip(&["-n", &host.netns, "link", "set", "lo", "up"]);
        host
    }

    /// `program` to run on this host (`ip netns exec`, which becomes the program: killing the
    /// child kills it).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.netns]).arg(program);
        c
    }
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Host {
    /// The namespace goes, and its cables with it (once what runs in it has ended).
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
    }
}
