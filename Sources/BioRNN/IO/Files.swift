import Foundation

/// Reading a whole file, with the reason when it cannot be read.
public enum FileContents {
    /// The file's bytes, or an error that says why not: `PATH: no such file`, `PATH: is a
    /// directory`, `PATH: permission denied`.
    public static func read(_ path: String) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else { throw InputError("\(path): \(reason(errno: errno))") }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw InputError("\(path): is a directory") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError("\(path): \(reason(errno: errno))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw InputError("\(path): cannot read file")
        }
    }

    /// errno as a few words a user can act on.
    static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case ENOTDIR: return "a folder on the path is a file"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "is a directory"
        case ENOSPC: return "no space left on the device"
        case EROFS: return "read-only file system"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}

/// Writing files so that no reader ever sees half of one: write to a temporary name in the same
/// folder (unique per process and call, so concurrent writers never share one), flush it to disk,
/// then rename into place (atomic on POSIX file systems). After a crash — of the process or of
/// the machine — the file is either absent or whole.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max))")
        do {
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
                throw InputError("\(path): cannot write file (\(FileContents.reason(errno: errno)))")
            }
            let handle = try FileHandle(forWritingTo: tmp)
            do {
                try handle.write(contentsOf: Data(text.utf8))
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(tmp.path, url.path) != 0 { throw InputError("\(path): cannot write file (\(FileContents.reason(errno: errno)))") }
        } catch let error as InputError {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw InputError("\(path): cannot write file")
        }
    }
}


/// Output directories.
public enum Directory {
    /// Creates `path` and its missing parents; an error says why it could not
    /// (`PATH: cannot create directory (permission denied)`).
    public static func create(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw InputError("\(path): cannot create directory (a file of that name exists)") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            let code = (error as NSError).userInfo[NSUnderlyingErrorKey].flatMap { ($0 as? NSError)?.code } ?? Int(EACCES)
            throw InputError("\(path): cannot create directory (\(FileContents.reason(errno: Int32(code))))")
        }
    }
}
