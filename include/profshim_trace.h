/*
 * profshim trace format, version 1 — shared by the shim (writer) and
 * profanalyze (reader). This header is the format's documentation.
 *
 * FILES
 *   One run of one process writes one *process file* (the PROFSHIM_OUTPUT
 *   path) and one *thread file* per thread, named "<process file>.t<seq>",
 *   seq = 1, 2, ... in order of thread start within that process.
 *   The process file lists every thread file it created (PST_X_THREAD_FILE),
 *   so a reader finds all of them from the one path and notices a missing one.
 *   A thread file no process file lists may exist, empty or header only: a
 *   spare made before a privilege drop that no thread took; readers ignore
 *   it (thread seq numbers may skip it).
 *
 *   Every file starts with a struct pst_file_header in a 4096-byte header
 *   page; records start at offset PST_DATA_OFFSET. All integers are
 *   little-endian.
 *
 * CRASH SAFETY
 *   The shim writes through shared memory mappings, so what it wrote is in the
 *   page cache even when the process dies by SIGKILL. After each record the
 *   writer stores the new end of data in header.committed (a release store),
 *   so only records wholly written count: bytes past `committed` are a torn
 *   tail and are ignored with a warning. A file may be longer than
 *   PST_DATA_OFFSET + committed (preallocated, zero-filled space).
 *   PST_FLAG_CLOSED is set when the file was closed cleanly.
 *
 * RECORDS
 *   Every record starts with a tag, an unsigned LEB128 varint:
 *       tag = (value << 4) | kind
 *   The meaning of `value` depends on the kind. The fields that follow are
 *   varints unless stated otherwise. "dt" is the time since the previous
 *   timed record of the same thread file, in clock ticks (see CLOCK); the
 *   first timed record is relative to header.start_ticks. "str" is a varint
 *   length followed by that many bytes (no NUL).
 *
 *   kind  name    value     fields after the tag
 *   0     EXIT    dt        -               (leave the innermost open call)
 *   1     ENTER   func id   dt              (enter function `func id`)
 *   2     ALLOC   dt        fn, size, addr, stack[, old_addr if fn==REALLOC]
 *   3     FREE    dt        addr
 *   4     SAMPLE  dt        weight, stack, shadow_depth
 *   5     STACK   node id   parent id, pc   (a call-stack trie node)
 *   6     FUNC    func id   addr            (names an instrumented function)
 *   7     MARK    dt        pc, str name    (a user marker and its call site)
 *   8     RSS     dt        rss bytes       (resident set size sample)
 *   15    EXT     ext kind  len, then len bytes of payload (rare records,
 *                           skippable by length; layouts below)
 *
 *   (Files with PST_FLAG_ALLOC_IDS write ALLOC and FREE differently: see
 *   ALLOCATION IDS.)
 *   ALLOC: fn is enum pst_alloc_fn; size is the requested size (for calloc
 *   nmemb*size; 0 on overflow); addr is the result (0 when the call failed
 *   or realloc(p, 0) freed p); stack is the leaf STACK node id (0 = none).
 *   A REALLOC frees old_addr (when non-zero) and, when addr != 0, creates a
 *   block at addr; a failed realloc (addr == 0, size != 0) frees nothing.
 *
 *   DELTA CODING (thread files with PST_FLAG_DELTA): ALLOC addr and FREE
 *   addr are written as pst_zigzag(addr - previous address), where the
 *   previous address is that of the last ALLOC or FREE of the file with a
 *   non-zero address (0 at the start); an ALLOC's stack as
 *   pst_zigzag(stack - previous ALLOC's stack) (0 at the start); and a
 *   REALLOC's old_addr relative to its own addr: 0 for none, else
 *   pst_zigzag(old_addr - addr) + 1 (1 = resized in place). A heap address
 *   is a 6-7 byte varint, its distance to the last one mostly 1-2 bytes.
 *   The state is the file's own: records after a torn or missing one are
 *   lost anyway (readers stop at the first bad record).
 *
 *   With calls recorded, an ALLOC made by an instrumented function itself
 *   takes its stack from the calls recorder's shadow stack instead of
 *   unwinding: still return addresses (the call site, then each
 *   instrumented function's call site in its caller), but the stack ends
 *   one frame into the code that called the outermost instrumented
 *   function (e.g. __libc_start_call_main, without _start).
 *
 *   STACK nodes form a per-thread trie: node ids are unique within a thread
 *   file, defined before first use; parent 0 is the root; the chain from a
 *   node to the root is innermost-first, so the node's pc is the innermost
 *   frame of that stack. Frame 0 of a SAMPLE is the interrupted pc; other
 *   pcs are return addresses (a reader subtracts 1 to find the call line).
 *
 *   SAMPLE: weight = 1 + timer overruns; shadow_depth = depth of the calls
 *   recorder's shadow stack when the sample fired (0 without calls).
 *   weight x period is CPU time, user + system (the thread's CPU clock).
 *   Frame 0 may be the pseudo-pc PST_PC_PROFSHIM: the sample landed in the
 *   profiler's own work (a hook's bookkeeping, unwinding, the calls hooks);
 *   the frames below it are the program's stack that entered the hook. A
 *   sample that lands while a hook runs the real function it wraps (e.g.
 *   glibc's malloc under the shim's malloc) keeps the interrupted frames,
 *   with the shim's frames cut out. Such samples are written when the hook
 *   ends, so their time may be a little later than the interrupt.
 *   A SAMPLE whose stack is PST_PC_KERNEL alone carries system time the
 *   perf_event timer could not interrupt (its stack is unknown).
 *   Per thread: sum of SAMPLE weights + DROP_SAMPLE_WEIGHT + CPU_UNSAMPLED
 *   + CPU_PAUSED == CPU_PERIODS (see enum pst_counter).
 *
 * EXT payloads
 *   Thread file:
 *     THREAD_NAME   str name
 *     THREAD_END    end ticks (absolute)
 *     COUNTERS      pairs (counter id, value) to the end of the payload;
 *                   enum pst_counter. Written at thread end.
 *     CCT_NODE      node id, parent id, func id, calls, incl ticks,
 *                   excl ticks, min ticks, max ticks, nbuckets, buckets...,
 *                   timed, stood_for, timed_sub   (calling-context tree of
 *                   PROFSHIM_CALLS=tree; bucket i counts calls of duration
 *                   in [2^(i-1), 2^i) ticks). `calls` is exact. `timed`
 *                   and `stood_for` were added later (absent: every call
 *                   was timed). `timed` is how many calls had their
 *                   duration measured; each stands for some calls (its
 *                   weight, see PROFSHIM_CALLS_TIMING), `stood_for` is the
 *                   sum of those weights. When timed < calls, incl and the
 *                   buckets are sums over the timed calls times their
 *                   weights: readers scale incl by calls / stood_for (an
 *                   average of the timed calls times the exact count) and
 *                   take a node's exclusive time as its scaled incl less
 *                   its children's (the excl field is then only the
 *                   writer's unscaled difference). min and max are those
 *                   of the timed calls. `timed_sub` (added later; absent
 *                   or 0: unknown) is the sum over the timed calls of
 *                   weight x the calls made during the call, itself
 *                   included: time per call made is incl / timed_sub, and
 *                   the calls made in all of a node's calls are exact (the
 *                   calls of its subtree), which estimates a recursion's
 *                   heavy-tailed times far better than an average per
 *                   call does.
 *     CCT_END       node count   (ends a complete snapshot of the tree)
 *   Process file:
 *     PROCESS_INFO  pid, ppid, clock kind (enum pst_clock), ticks per
 *                   second (x1000, an integer), start ticks, start mono ns,
 *                   start wall ns (CLOCK_REALTIME), record mask
 *                   (enum pst_record bits), str exe, argc, argc x str arg
 *     CLOCK_SYNC    ticks, mono ns            (calibration points)
 *     CLOCK_CAL     ticks per second (x1000), span ns   (the TSC rate
 *                   measured again at the end or an exec over `span` ns of
 *                   the process's life; PROCESS_INFO's is a start-up
 *                   estimate over ~40 us (0.1%). Readers take the last
 *                   CLOCK_CAL over PROCESS_INFO's rate; CLOCK_SYNC points
 *                   50 ms or more apart beat both.)
 *     MODULES_BEGIN generation, ticks         (a module map follows)
 *     MODULE        generation, bias, lo, hi, str path, str build-id bytes
 *                   (bias = load bias; [lo, hi) = the mapped address range)
 *     THREAD_FILE   seq, tid, start ticks
 *     THREAD_FILE_LAZY seq, tid, start ticks   (as THREAD_FILE, for the
 *                   thread that starts a process: its file is made by its
 *                   first record. No file = the thread wrote no record of
 *                   its own; its end and name are in THREAD_EXIT, its
 *                   counters in COUNTERS here.)
 *     PROCESS_END   end ticks, end mono ns, end wall ns, reason
 *                   (enum pst_end_reason), status
 *     COUNTERS      as in thread files, for process-wide counters
 *     CPU_TIMER     hz, mechanism (enum pst_cpu_timer), signal number
 *     THREAD_EXIT   seq, end ticks, str name   (a thread's end and its
 *                   last name, also in the process file)
 *     MEM_CONFIG    sample bytes, rss ms    (memory recorder settings:
 *                   sample bytes = PROFSHIM_MEM_SAMPLE mean, 0 = every
 *                   allocation recorded; rss ms = RSS interval, 0 = off;
 *                   a forked child's process file has its own)
 *     CCT_LIVE      seq, node id, parent id, function address, then as
 *                   CCT_NODE from calls on: a node of the calling-context
 *                   tree of thread `seq`, still running when the process
 *                   ended or exec'd (see CALL TREE SNAPSHOTS)
 *     CCT_LIVE_END  seq, node count   (ends a complete CCT_LIVE snapshot)
 *     RUN_LINK      str parent file, str previous image file, exec index
 *                   (right after PROCESS_INFO: the process file of the
 *                   parent that forked this process, "" when the parent
 *                   was not seen fork (posix_spawn, a parent outside the
 *                   shim); the process file of the image this one replaced
 *                   by exec, ""; and this image's place in its pid's exec
 *                   chain, 0 = first. File names are without directory:
 *                   they are in the same directory as this file.)
 *     PROCESS_CMDLINE argc, argc x str arg   (the command line as the
 *                   process shows it at its end or exec, which replaces
 *                   PROCESS_INFO's: programs rename themselves; written
 *                   only when the argv memory changed since the start)
 *
 * CALL TREE SNAPSHOTS (PROFSHIM_CALLS=tree)
 *   A thread's tree is written as a full snapshot: CCT_NODE records (ids in
 *   creation order, parents first) followed by CCT_END. A thread writes one
 *   at its end and one before exec; when exec fails it records on and its
 *   end writes another. Readers use the LAST snapshot closed by CCT_END (never
 *   the sum); nodes after the last CCT_END are a torn snapshot and are
 *   ignored. Files without any CCT_END (older writers) hold one snapshot.
 *   Calls still open at a snapshot count as calls ending at that moment
 *   (as at a thread's end, where they are closed).
 *
 *   Threads still running when the process exits (or exec's) cannot write
 *   into their own files: the thread that ends the process writes their
 *   trees into the process file as CCT_LIVE records with the thread's seq,
 *   closed by CCT_LIVE_END (last complete snapshot per seq wins, as above).
 *   It reads the other thread's tree while that thread may still be
 *   running: the tables are never unmapped while the process lives, so the
 *   read is safe, but a call being counted at that instant may be missing
 *   or half counted (e.g. counted in calls, not yet in incl). Readers use a
 *   CCT_LIVE tree only when the thread's own file has no tree.
 *
 * RUN DIRECTORIES
 *   When PROFSHIM_OUTPUT names a directory (ends in '/' or exists), every
 *   process of the run writes "<dir>/<program>.<pid>.trace" (then
 *   "<program>.<pid>.<n>.trace" if taken) and its thread files next to it.
 *   A reader finds the run's processes by their magic and builds the tree
 *   from RUN_LINK, falling back to pid, ppid and start/end times.
 *
 * FORK
 *   A forked child's thread starts a new thread file but keeps the calls
 *   that were open at fork time open: in trace mode its file starts with
 *   ENTER records for them, at the child's start; in tree mode its tree
 *   starts with their path, one call each, timed from the child's start.
 *   Exits of those calls in the child are then matched, not unmatched.
 *
 * I/O AND WAITING (record kinds 9, 10; PROFSHIM_RECORD=io)
 *   9   IO      dt        op, desc, obj, asked, result, dur, site, stack
 *   10  FD      dt        desc, kind, fd, port, str name, str note
 *   IO: one call of a wrapped libc function, timed at its END (dt);
 *   it started dur ticks earlier. op is enum pst_io_op; desc is the
 *   descriptor's description id (FD record; 0 = none: waits, locks);
 *   obj is what the call was on: the fd (+1, 0 = none) for descriptor
 *   calls, the address of the mutex/rwlock/spinlock/condvar/semaphore,
 *   the pid for waitpid/wait4, nfds for poll/select/epoll_wait, the
 *   input fd (+1) for sendfile/copy_file_range/splice; asked is the byte
 *   count asked for (timeout in ms for poll/epoll_wait, the requested
 *   sleep in ns for sleeps; for sendmmsg/recvmmsg the bytes moved, as
 *   the result there counts messages); result is the return value as the
 *   program saw it, zigzag-encoded (v >= 0: 2v, v < 0: -2v-1), with
 *   -errno for a failed call (so EINTR reads -4, a short write its
 *   count); site is a STACK node id whose node is the one-frame stack of
 *   the return address into the caller of the wrapped function (exact
 *   for every call; 0 = unknown); stack is a STACK node id or 0 (see
 *   IO_CONFIG for which calls carry one). Locks are recorded only when
 *   contended (a try-lock failed); dur is then the time blocked.
 *   FD: describes a descriptor from then on (until a close, or a new FD
 *   record for the same fd). desc ids are unique per process (never
 *   reused); dup/dup2/dup3/F_DUPFD make no new description (the new fd
 *   refers to the same desc). kind is enum pst_fd_kind; port the local
 *   (listening) port of an accepted socket, else 0; name the path
 *   (resolved against dirfd/cwd as the call did), the peer "ip:port",
 *   "[ip6]:port" or "unix:path", or "pipe:[inode]"; note what
 *   /proc/self/fd said (inherited and unknown descriptors).
 *
 * SPANS AND COUNTERS (record kind 11; the public API of profshim.h)
 *   11  SPAN    dt        what, then: BEGIN str name | END - | END_ERROR -
 *                         | COUNTER str name, value (zigzag)
 *   what is enum pst_span_what. Spans nest per thread: an END closes the
 *   innermost open span of its thread (an END with none open is counted
 *   under DROP_SPAN_UNMATCHED, not written).
 *
 *   I/O EXT payloads:
 *     IO_CONFIG (process file) stack ns, sample every, enabled
 *                   (calls of at least `stack ns` carry a stack, the first
 *                   call of each site, and one in `sample every` of the
 *                   shorter ones; 0 = none)
 *     IO_DNS    (thread file)  end ticks (absolute), dur, result (gai
 *                   code, zigzag), site, stack (both as in IO), str host
 *                   (a getaddrinfo)
 *     IO_OPEN   (process file) thread seq, op, obj (as in IO), start ticks,
 *                   end ticks (both absolute), site (a raw address, not a
 *                   node: written by another thread), [desc]: a call (a
 *                   wait: poll ... waitpid, cond waits, locks; or a
 *                   descriptor call: read, recv, accept, connect, fsync ...)
 *                   still in progress when the process ended, recorded as
 *                   ending then (the thread's own file has no IO record of
 *                   it); readers mark it unfinished. desc (written since
 *                   descriptor calls are published; absent in older
 *                   traces): the descriptor's FD description, 0 = none
 *
 * COMPRESSED RUNS (record kind 12, thread files; PROFSHIM_COMPRESS)
 *   12  ZRUN    what      RUN: n, n zero bytes, zpos (u64 LE, fixed width)
 *                         BLOCK: seq, run, raw_len, zlen, zlen bytes
 *   A busy thread file is a sequence of runs. The shim keeps the run being
 *   written raw in its shared mapping (so the hot path and the crash safety
 *   above are unchanged); when the run is finished (a window slide, about
 *   once per PROFSHIM_BUFFER_KB) it appends the run compressed, as a BLOCK,
 *   and then frees the raw run's disk blocks. In stream order:
 *
 *     RUN(zpos) raw records... PAD BLOCK RUN(zpos) raw records... ...
 *
 *   RUN opens a run; its records follow it. The RUN record ends on a page
 *   boundary (n pads it), so the raw records sit in whole pages that can
 *   be freed. zpos is the data offset (from PST_DATA_OFFSET, like
 *   committed) of the BLOCK that holds the run, 0 while there is none.
 *   BLOCK: seq = 1, 2, ... in the file; run = data offset of the RUN it
 *   replaces; raw_len = bytes of records from the end of that RUN record
 *   (the PAD and the BLOCK itself not included); then one zstd frame of
 *   zlen bytes carrying its content size and checksum. EXT PAD (any
 *   length, skipped) puts the BLOCK on a page boundary.
 *   The shim writes a BLOCK (with the next RUN after it), then advances
 *   `committed` past them, then stores the old RUN's zpos, then frees the
 *   raw pages (fallocate PUNCH_HOLE; the file length stays, its disk
 *   blocks go). A crash at any moment leaves the raw run, or its BLOCK, or
 *   both; a reader takes each run once:
 *     - at a RUN with zpos != 0 it decodes the BLOCK at zpos (which must
 *       name this RUN) in place of the raw records, then goes on after
 *       the BLOCK (the bytes in between may be zeros);
 *     - at a RUN with zpos == 0 it reads the raw records; a BLOCK met in
 *       sequence repeats the run just read and is skipped.
 *   A block that fails to decompress or to check is reported with the
 *   file and its offset; the runs before it still read. Records never
 *   cross a run's end: the delta and clock state runs on across runs.
 *   The first window of a thread file (before the first slide) is raw and
 *   has no RUN record: short threads write the plain format above.
 *
 *   A BLOCK may also sit in room reserved after its run, when the shim
 *   compresses in a background thread (PROFSHIM_COMPRESS_THREAD):
 *
 *     RUN(zpos) raw records... PAD[ ... BLOCK PAD ] RUN(zpos) raw records...
 *
 *   At the slide the writer appends one PAD whose payload is the room (a
 *   hole in the file, up to the next RUN, which it writes and publishes
 *   then). Later the compressor writes, inside that payload, a BLOCK on
 *   a page boundary and a PAD from the BLOCK's end to the next RUN; then
 *   it stores the RUN's zpos and frees the raw pages. The reading rules
 *   above hold as they are: with zpos == 0 the reader reads the raw run
 *   and skips the room as one PAD; with zpos set it decodes the BLOCK and
 *   goes on after it, through the second PAD. A run the compressor did
 *   not finish (exec, a kill) stays raw, zpos 0, followed by its room.
 *   Readers must not assume that BLOCK seq numbers have no gaps.
 *
 * ALLOCATION IDS (thread files with PST_FLAG_ALLOC_IDS; full memory
 * recording, not sampling mode)
 *   Heap addresses are what compresses worst (2-4 bytes per call after
 *   zstd), so these files name blocks by number, and time memory events
 *   coarsely:
 *   2   ALLOC   dt/2^k    fn2, size, stack[, addr][, old ref]
 *   3   FREE    dt/2^k    ref
 *   fn2 = fn << 3 | same << 2 | has_addr << 1 | failed. failed: no block
 *   was created (the call failed, or realloc(p, 0) freed p). has_addr: the
 *   block's address follows (delta-coded as in DELTA CODING); the block is
 *   known by its address, as in files without the flag. Otherwise a block
 *   that was created gets the file's next number n = 1, 2, ... (only
 *   ALLOC records with failed = has_addr = same = 0 take a number).
 *   same (REALLOC / REALLOCARRAY only): resized in place; the block keeps
 *   the old ref's identity (its number or its address) and takes no new
 *   number. stack is delta-coded as in DELTA CODING. old ref: REALLOC and
 *   REALLOCARRAY only, the block realloc was given.
 *   A ref (FREE, old ref) is a varint whose low 2 bits say what it is:
 *     0  none (realloc of NULL; never in a FREE); the other bits are 0
 *     1  by address: an address delta follows (as DELTA CODING's FREE
 *        addr); the other bits are 0
 *     2  another thread file's block: its thread_seq and n follow
 *        (plain varints); the other bits are 0
 *     3  this file's block: ref >> 2 = pst_zigzag(n - last_n), where
 *        last_n is the n of the previous kind-3 ref of the file (0 at the
 *        start), which becomes n
 *   Within a process, the block (thread_seq, n) is the n-th numbered
 *   block of thread file thread_seq. A free of a block the shim did not
 *   number (allocated before it started, while it was off, or with
 *   has_addr) is written by address. Readers key a numbered block as
 *   (1 << 63) | thread_seq << 40 | n (user addresses are below 2^63).
 *   Times: header.mem_time_shift = k. An ALLOC or FREE's dt is
 *   q = (now - last) >> k and the file's clock advances by q << k, so the
 *   time a reader gets (last + (q << k)) is at most 2^k ticks before the
 *   true one and never drifts; other records keep exact times (their dt
 *   counts from that clock), and so does an ALLOC or FREE that names a
 *   block by address (has_addr, or a ref of kind 1): two blocks at one
 *   address, freed by one thread and allocated by another, are told apart
 *   only by the order of their records. The shim picks k so that 2^k ticks are at
 *   most 1 us (TSC: ticks per us rounded down to a power of two;
 *   CLOCK_MONOTONIC ns: k = 9), or k = 0 with PROFSHIM_MEM_TIME=exact
 *   and when the shim has no live-block map (every block by address).
 *   Because each thread's times are rounded on their own, a FREE in one
 *   thread can sort before the other thread's ALLOC of the block (the
 *   same microsecond): readers keep such frees until the ALLOC comes.
 *
 * MEMORY SAMPLING (MEM_CONFIG sample bytes = M > 0)
 *   Only sampled allocations are written (a Poisson process over bytes with
 *   mean distance M) and only the frees of sampled blocks. A sampled block
 *   of s bytes stands for 1 / (1 - exp(-s / M)) blocks of its kind; the
 *   COUNTERS (ALLOCS, FREES) still count every call exactly. A sampled
 *   REALLOC is written with old_addr 0 (a fresh block) and the old block's
 *   free, if it was sampled, as a FREE record.
 *
 *   Exact live bytes in sampling mode: each thread also counts the
 *   allocator's usable bytes of every block (malloc_usable_size; with
 *   glibc the chunk size less one word, read from its header) it
 *   allocates (counter MEM_USABLE_ALLOC) and frees (MEM_USABLE_FREED), and
 *   publishes both in a MEM_USABLE record (thread file, EXT kind 64) after
 *   each sampled ALLOC and FREE, whenever it freed about M bytes since its
 *   last one, and at its end:
 *     MEM_USABLE    ticks, alloc usable, freed usable, high, addr, block usable
 *   ticks: absolute, 0 = the time of the record before it; alloc / freed:
 *   the thread's counts so far; high: the largest (alloc - freed) of the
 *   thread since its previous MEM_USABLE (>= the current value; both may
 *   be negative for a thread that frees others' blocks, so high is written
 *   zigzag-encoded); addr and block usable: the sampled block just
 *   allocated and its usable size (0 and 0: none). The sum over threads of
 *   (alloc - freed) is the heap's exact live usable bytes at that moment,
 *   up to what other threads did since their last record; readers turn it
 *   into requested bytes with the usable-to-requested ratio of the sampled
 *   live blocks.
 */
#ifndef PROFSHIM_TRACE_H
#define PROFSHIM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Version 2: thread files may hold ALLOCATION IDS (PST_FLAG_ALLOC_IDS)
 * and the header's mem_time_shift. Readers take every version from
 * PST_VERSION_OLDEST on: version-1 files hold the records without ids. A
 * profanalyze from before version 2 refuses these files by their version
 * instead of misreading their ALLOC records. */
#define PST_VERSION 2
#define PST_VERSION_OLDEST 1
#define PST_DATA_OFFSET 4096u
#define PST_MAGIC_PROCESS "PSHMPROC"
#define PST_MAGIC_THREAD "PSHMTHRD"
#define PST_MAGIC_LEN 8

/* The longest record the shim ever writes, tag included. */
#define PST_MAX_RECORD 65536u
/* Longest string field (paths, names). */
#define PST_MAX_STR 4096u

enum pst_flags {
	PST_FLAG_CLOSED = 1u << 0,
	/* Thread files: ALLOC and FREE fields are delta-coded (see "DELTA
	 * CODING"). Written by every profshim since delta coding came; a file without
	 * the flag (older profshim) holds them plain and still reads. */
	PST_FLAG_DELTA = 1u << 1,
	/* Thread files: ALLOC and FREE name blocks by number and their times
	 * are rounded to 2^mem_time_shift ticks (see ALLOCATION IDS). */
	PST_FLAG_ALLOC_IDS = 1u << 2,
};

struct pst_file_header {
	char magic[PST_MAGIC_LEN];
	uint32_t version;
	uint32_t header_size; /* == PST_DATA_OFFSET */
	uint64_t committed;   /* bytes of whole records after the header */
	uint32_t pid;
	uint32_t tid;	      /* thread files: kernel tid; process file: pid */
	uint32_t thread_seq;  /* thread files: 1, 2, ...; process file: 0 */
	uint32_t flags;	      /* enum pst_flags */
	uint64_t start_ticks; /* base of the first dt in this file */
	/* thread files with PST_FLAG_ALLOC_IDS: ALLOC/FREE dt unit is
	 * 2^mem_time_shift ticks (0 in older files, which ignore it) */
	uint32_t mem_time_shift;
};

/* ALLOCATION IDS: the low bits of an ALLOC's fn2 field and of a ref. */
enum pst_alloc_bits {
	PST_A_FAILED = 1u << 0,	  /* no block created */
	PST_A_HAS_ADDR = 1u << 1, /* the address follows */
	PST_A_SAME = 1u << 2,	  /* realloc in place: the old ref's block */
	PST_A_FN_SHIFT = 3,
};
enum pst_ref_kind {
	PST_REF_NONE = 0,
	PST_REF_ADDR = 1,  /* an address delta follows */
	PST_REF_OTHER = 2, /* thread_seq, n follow */
	PST_REF_OWN = 3,   /* ref >> 2 = zigzag(n - last_n) */
	PST_REF_BITS = 2,
};
/* Numbered blocks: n < 2^PST_ID_N_BITS, thread_seq < 2^PST_ID_SEQ_BITS. */
#define PST_ID_N_BITS 40
#define PST_ID_SEQ_BITS 23
/* The reader's key of block n of thread file seq (never a user address). */
static inline uint64_t pst_block_key(uint64_t seq, uint64_t n)
{
	return (1ull << 63) | (seq << PST_ID_N_BITS) | n;
}
/* The largest mem_time_shift a reader accepts. */
#define PST_MAX_MEM_TIME_SHIFT 32

enum pst_kind {
	PST_K_EXIT = 0,
	PST_K_ENTER = 1,
	PST_K_ALLOC = 2,
	PST_K_FREE = 3,
	PST_K_SAMPLE = 4,
	PST_K_STACK = 5,
	PST_K_FUNC = 6,
	PST_K_MARK = 7,
	PST_K_RSS = 8,
	PST_K_IO = 9,	 /* I/O, network, waits, contended locks */
	PST_K_FD = 10,	 /* a descriptor's description */
	PST_K_SPAN = 11, /* spans and counters of the public API */
	PST_K_ZRUN = 12, /* compressed runs: see COMPRESSED RUNS */
	PST_K_EXT = 15,
};
#define PST_KIND_BITS 4
#define PST_KIND_MASK 0xfu

enum pst_ext {
	PST_X_THREAD_NAME = 1,
	PST_X_THREAD_END = 2,
	PST_X_COUNTERS = 3,
	PST_X_CCT_NODE = 4,
	PST_X_CCT_END = 5,
	PST_X_PROCESS_INFO = 16,
	PST_X_CLOCK_SYNC = 17,
	PST_X_MODULES_BEGIN = 18,
	PST_X_MODULE = 19,
	PST_X_THREAD_FILE = 20,
	PST_X_PROCESS_END = 21,
	PST_X_CPU_TIMER = 22,
	PST_X_THREAD_EXIT = 23,
	PST_X_MEM_CONFIG = 24,
	PST_X_MEM_USABLE = 64, /* thread file: exact usable bytes (sampling mode) */
	PST_X_CCT_LIVE = 25,
	PST_X_CCT_LIVE_END = 26,
	PST_X_IO_CONFIG = 48, /* process file: io recorder settings */
	PST_X_IO_DNS = 49,    /* thread file: a getaddrinfo call */
	PST_X_IO_OPEN = 50,   /* process file: a wait still in progress at the end */
	PST_X_PAD = 56,	      /* thread file: filler, skipped (COMPRESSED RUNS) */
	/* run directories (see RUN DIRECTORIES) */
	PST_X_RUN_LINK = 40,
	PST_X_PROCESS_CMDLINE = 41,
	/* start-up (issue 15c): 88-91 */
	PST_X_CLOCK_CAL = 88, /* process file: the TSC rate measured over the process's life */
	PST_X_THREAD_FILE_LAZY = 89, /* process file: THREAD_FILE of a file made on first need */
};

/* Operations of IO records: 1-63 descriptor I/O (file or network by the
 * descriptor's kind; 32-47 only on sockets), 64-95 waiting, 96-99 locks. */
enum pst_io_op {
	PST_IO_OPEN = 1,
	PST_IO_CLOSE = 2,
	PST_IO_READ = 3,
	PST_IO_WRITE = 4,
	PST_IO_PREAD = 5,
	PST_IO_PWRITE = 6,
	PST_IO_READV = 7,
	PST_IO_WRITEV = 8,
	PST_IO_PREADV = 9,
	PST_IO_PWRITEV = 10,
	PST_IO_FSYNC = 11,
	PST_IO_FDATASYNC = 12,
	PST_IO_SYNC_RANGE = 13,
	PST_IO_FTRUNCATE = 14,
	PST_IO_FALLOCATE = 15,
	PST_IO_SENDFILE = 16, /* desc: out fd; obj: in fd + 1 */
	PST_IO_COPY_RANGE = 17,
	PST_IO_SPLICE = 18,
	PST_IO_STDIO_READ = 24,	 /* fread, fgets, getline, getdelim */
	PST_IO_STDIO_WRITE = 25, /* fwrite, fputs, puts, fprintf, printf, ... */
	PST_IO_STDIO_FLUSH = 26,
	PST_IO_FOPEN = 27,
	PST_IO_FCLOSE = 28,
	PST_IO_SOCKET = 32,
	PST_IO_CONNECT = 33,
	PST_IO_ACCEPT = 34,
	PST_IO_SEND = 35,
	PST_IO_SENDTO = 36,
	PST_IO_SENDMSG = 37,
	PST_IO_SENDMMSG = 38,
	PST_IO_RECV = 39,
	PST_IO_RECVFROM = 40,
	PST_IO_RECVMSG = 41,
	PST_IO_RECVMMSG = 42,
	PST_IO_SHUTDOWN = 43,
	PST_IO_POLL = 64,	/* poll, ppoll */
	PST_IO_SELECT = 65,	/* select, pselect */
	PST_IO_EPOLL_WAIT = 66, /* epoll_wait, epoll_pwait */
	PST_IO_SLEEP = 67,	/* nanosleep, clock_nanosleep, usleep, sleep */
	PST_IO_COND_WAIT = 68,	/* pthread_cond_wait, _timedwait */
	PST_IO_JOIN = 69,
	PST_IO_SEM_WAIT = 70, /* sem_wait, sem_timedwait */
	PST_IO_WAITPID = 71,  /* wait, waitpid, wait4 */
	PST_IO_MUTEX = 96,
	PST_IO_RDLOCK = 97,
	PST_IO_WRLOCK = 98,
	PST_IO_SPIN = 99,
	PST_IO_OP_MAX = 100 /* readers reject ops from here on */
};

enum pst_fd_kind {
	PST_FD_FILE = 1,
	PST_FD_PIPE = 2,
	PST_FD_TCP = 3,
	PST_FD_UDP = 4,
	PST_FD_UNIX = 5,
	PST_FD_SOCKET = 6,    /* another socket family */
	PST_FD_INHERITED = 7, /* open when the shim started: see note */
	PST_FD_UNKNOWN = 8,   /* first seen in use: see note */
	PST_FD_OTHER = 9,     /* eventfd, epoll, timerfd, ... */
	PST_FD_KIND_MAX
};

enum pst_span_what {
	PST_SPAN_BEGIN = 0,
	PST_SPAN_END = 1,
	PST_SPAN_END_ERROR = 2,
	PST_SPAN_COUNTER = 3,
};

/* Values of a kind-12 tag (see COMPRESSED RUNS). */
enum pst_zrun_what {
	PST_Z_RUN = 0,	 /* a run of records starts; u64 at its end: its BLOCK */
	PST_Z_BLOCK = 1, /* the same run, compressed */
};
/* Length of a RUN record's zpos field (u64, little-endian, at its end). */
#define PST_Z_RUN_ZPOS 8u
/* The largest run a reader decompresses (writers stay far below). */
#define PST_Z_MAX_RAW (1u << 30)

static inline uint64_t pst_zigzag(int64_t v)
{
	return v >= 0 ? (uint64_t)v << 1 : (((uint64_t)(-(v + 1))) << 1) | 1;
}
static inline int64_t pst_unzigzag(uint64_t v)
{
	return (v & 1) ? -(int64_t)(v >> 1) - 1 : (int64_t)(v >> 1);
}

enum pst_alloc_fn {
	PST_FN_MALLOC = 0,
	PST_FN_CALLOC = 1,
	PST_FN_REALLOC = 2,
	PST_FN_REALLOCARRAY = 3, /* recorded like REALLOC, with old_addr */
	PST_FN_POSIX_MEMALIGN = 4,
	PST_FN_ALIGNED_ALLOC = 5,
	PST_FN_MEMALIGN = 6,
	PST_FN_VALLOC = 7,
	PST_FN_PVALLOC = 8,
	PST_FN_COUNT
};

enum pst_clock {
	PST_CLOCK_MONOTONIC_NS = 0, /* ticks are CLOCK_MONOTONIC nanoseconds */
	PST_CLOCK_TSC = 1,	    /* ticks are x86 TSC cycles >> PST_TSC_SHIFT */
};

/* TSC ticks are cycles / 2^PST_TSC_SHIFT (a few ns, still finer than the
 * cost of reading the clock): small deltas keep call records to one byte of
 * dt. Readers need only PROCESS_INFO's ticks per second. */
#define PST_TSC_SHIFT 4

enum pst_record {
	PST_REC_CPU = 1u << 0,
	PST_REC_MEM = 1u << 1,
	PST_REC_CALLS = 1u << 2,
	PST_REC_IO = 1u << 3,
};

enum pst_end_reason {
	PST_END_EXIT = 0, /* exit() / return from main */
	PST_END_EXEC = 1, /* replaced by execve */
	PST_END_STOP = 2, /* profshim_stop() then exit */
};

enum pst_cpu_timer {
	PST_TIMER_POSIX = 0, /* timer_create(CLOCK_THREAD_CPUTIME_ID) */
	PST_TIMER_PERF = 1,  /* perf_event software cpu-clock */
};

/* Counters of COUNTERS records. Anything dropped is counted here. */
enum pst_counter {
	PST_C_EVENTS = 1,
	PST_C_ALLOCS = 2,
	PST_C_FREES = 3,
	PST_C_SAMPLES = 4,
	PST_C_CALLS = 5,
	PST_C_IO_CALLS = 10,		/* I/O, wait and contended lock calls recorded */
	PST_C_IO_STACKS = 11,		/* of which carry a stack */
	PST_C_SPANS = 12,		/* spans begun */
	PST_C_SPAN_COUNTERS = 13,	/* counter values recorded */
	PST_C_DROP_NO_SPACE = 16,	/* events lost: trace could not grow */
	PST_C_DROP_AFTER_END = 17,	/* events after the thread's end */
	PST_C_DROP_SAMPLE_BUSY = 18,	/* samples landing inside a shim hook */
	PST_C_DROP_SAMPLE_LOADER = 19,	/* samples landing inside the loader */
	PST_C_DROP_CALL_DEPTH = 20,	/* calls deeper than the shadow stack */
	PST_C_DROP_CALL_SHORT = 21,	/* calls filtered by minimum duration */
	PST_C_DROP_STACK_TRUNC = 22,	/* stacks cut at the depth limit */
	PST_C_DROP_REENTRANT = 23,	/* hook calls taken on the plain path */
	PST_C_DROP_MEM_SAMPLE_SET = 24, /* sampled blocks whose free is lost
				       (sampled-address set full) */
	PST_C_DROP_CALL_UNMATCHED = 25, /* exits matching no open call */
	PST_C_DROP_CALL_CONTEXT = 26,	/* calls outside the full call tree */
	PST_C_DROP_IO_NESTED = 44,	/* I/O calls made inside another recorded
					   one (e.g. by getaddrinfo): not recorded */
	PST_C_DROP_IO_FD_RANGE = 45,	/* descriptors past the fd table: unnamed */
	PST_C_DROP_SPAN_UNMATCHED = 46, /* span ends with no open span */
	/* CPU sampler accounting, per thread at its end. Weights
	 * are timer periods (1 / hz s of CPU time, user + system). */
	PST_C_DROP_SAMPLE_WEIGHT = 6, /* periods in dropped samples (loader,
					 no room in the trace or the queue) */
	PST_C_SAMPLES_DEFERRED = 7,   /* samples landing inside a hook, written
					 when the hook ended */
	PST_C_CPU_PERIODS = 27,	      /* periods the thread's timer counted */
	PST_C_CPU_NS = 28,	      /* the thread's CPU time (ns, user + system)
					 while its timer was armed */
	PST_C_CPU_UNSAMPLED = 29,     /* periods no sample could carry: at the
					 thread's end, with no sample taken yet
					 (it blocked the sampling signal, or ran
					 less than a period) */
	PST_C_CPU_PAUSED = 30,	      /* periods while recording was paused */
	PST_C_SAMPLES_PROFSHIM = 31,  /* weight of samples at [profshim] */
	/* Sampling mode (PROFSHIM_MEM_SAMPLE) counts the
	 * requested bytes of every allocation call exactly (a size of 0
	 * counts 1), as the sampler's byte clock runs anyway. */
	PST_C_MEM_SAMPLE_BYTES = 40,
	/* Sampling mode: usable bytes (malloc_usable_size) of the blocks this
	 * thread allocated and freed, every call (see MEM_USABLE). */
	PST_C_MEM_USABLE_ALLOC = 47,
	PST_C_MEM_USABLE_FREED = 48,
	/* Compressed runs (issue 15f): runs of the thread file left raw (the
	 * compressor thread was behind, or its job failed), and runs the
	 * compressor thread compressed (not the program's thread). */
	PST_C_Z_RAW_RUNS = 53,	 /* reported as compression.runs_left_raw */
	PST_C_Z_BACKGROUND = 54, /* compression.runs_compressed_in_background */
	/* The CPU sampler's unwinder (issue 15q): a thread's fast walk needs
	 * its frame cache; a process's starting thread gets it from its first
	 * sample that interrupts the program's own code, made in the handler,
	 * not at start-up. Reported in the JSON report's cpu section. */
	PST_C_CPU_COLD_WALKS = 57,	 /* samples walked by the general walk
					  * (no frame cache yet): cpu.cold_walks */
	PST_C_CPU_WARMED_BY_SAMPLE = 58, /* frame caches made by a sample in the
					  * handler: cpu.caches_made_by_samples */
	/* Ids still free: 8-9 (plain counts), 32-39, 41-43, 49-56, 59-63. Readers skip ids they
	 * do not know; a new counter takes the next free id. */
	PST_C_COUNTER_MAX = 64
};

/* Pseudo-pc of frame 0 of a SAMPLE charged to the profiler itself
 * ("[profshim]"); never a code address. */
#define PST_PC_PROFSHIM 1
/* Pseudo-pc of a SAMPLE stack made of it alone ("[kernel]"): CPU time the
 * thread spent in the kernel while the perf_event timer (which cannot
 * interrupt kernel mode) could not sample it; its stack is unknown. */
#define PST_PC_KERNEL 2

/* --- varints (shared encoder; the reader decodes with bounds checks) --- */

static inline uint8_t *pst_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *pst_put_tag(uint8_t *p, uint64_t value, unsigned kind)
{
	return pst_put_varint(p, (value << PST_KIND_BITS) | kind);
}

static inline uint8_t *pst_put_str(uint8_t *p, const char *s, size_t len)
{
	if (len > PST_MAX_STR)
		len = PST_MAX_STR;
	p = pst_put_varint(p, len);
	memcpy(p, s, len);
	return p + len;
}

/* Bytes a varint needs at most. */
#define PST_VARINT_MAX 10

#endif
