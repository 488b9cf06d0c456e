#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Switching a live capture that runs as root to an unprivileged user.
///
/// Opening an interface for capture needs root (or CAP_NET_RAW); parsing hostile traffic does
/// not. So once the interface, the EVE file and the store are open, the process gives up root:
/// supplementary groups first, then the group, then the user, because after `setuid` it could
/// no longer change its groups. Files opened before the switch stay writable through their open
/// descriptors. NOTE: the store's SQLite journal files (-wal, -shm) are created next to the
/// database while it is open, so they already exist when the switch happens. The HTML report
/// (`--report`) and a learned baseline are written at the end of the run, after the switch, so
/// the command creates them before the switch, hands them to the unprivileged user, and writes
/// them in place.
enum PrivilegeDrop {
    /// The user switched to when `--user` is not given.
    static let defaultUser = "nobody"

    struct Account: Equatable {
        let name: String
        let userID: uid_t
        let groupID: gid_t
    }

    /// Looks up `name` in the user database; the error names the user and what to do.
    static func lookUp(_ name: String) throws -> Account {
        guard !name.isEmpty else {
            throw UsageError("empty user name for --user; give an existing unprivileged user such as nobody")
        }
        guard let entry = getpwnam(name) else {
            throw UsageError("user '\(name)' given with --user not found in the user database; give an existing unprivileged user such as nobody")
        }
        return Account(name: name, userID: entry.pointee.pw_uid, groupID: entry.pointee.pw_gid)
    }

    /// Switches to `account` when running as root, and does nothing otherwise. Throws when any
    /// step fails, because continuing as root after a partial switch would defeat the purpose.
    static func switchUser(to account: Account) throws {
        guard geteuid() == 0 else { return }
        var groups = [account.groupID]
        guard setgroups(groups.count, &groups) == 0 else {
            throw failure("setgroups", account)
        }
        guard setgid(account.groupID) == 0 else {
            throw failure("setgid(\(account.groupID))", account)
        }
        guard setuid(account.userID) == 0 else {
            throw failure("setuid(\(account.userID))", account)
        }
        // Regaining root must now fail; if it works, the switch did not take effect.
        if account.userID != 0 && setuid(0) == 0 {
            throw UsageError("switching to user '\(account.name)' did not take effect: setuid(0) still succeeds; stop and check the system's user setup")
        }
    }

    private static func failure(_ call: String, _ account: Account) -> UsageError {
        let reason = String(cString: strerror(errno))
        return UsageError("switching to user '\(account.name)' failed at \(call): \(reason); run as that user directly or choose another with --user")
    }
}
