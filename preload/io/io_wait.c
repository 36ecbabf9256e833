/*
 * io recorder: wrappers of the calls that wait — poll/ppoll, select/
 * pselect, epoll_wait/epoll_pwait, the sleeps, condition variables,
 * pthread_join, semaphores, wait/waitpid/wait4 — and of the locks.
 *
 * Locks record contention only: the wrapper tries the lock first; a lock
 * taken at once costs that try and nothing else (no clock read, no
 * record). Only when the try fails is the real, blocking call timed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

static uint64_t ts_ns(const struct timespec *ts)
{
	return ts ? (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec : 0;
}

#define WAIT_WRAPPER(name, op, T, params, args, obj, asked)                                        \
	PS_EXPORT T name params                                                                    \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_WAIT(&c, op, obj))                                                   \
			return real_##name args;                                                   \
		T rc = real_##name args;                                                           \
		ps_io_end(&c, op, 0, (uint64_t)(obj), (uint64_t)(asked), io_result((int64_t)rc));  \
		return rc;                                                                         \
	}

/* Functions returning an error number instead of -1/errno. */
#define WAIT_WRAPPER_ERRNUM(name, op, params, args, obj, asked)                                    \
	PS_EXPORT int name params                                                                  \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_WAIT(&c, op, obj))                                                   \
			return real_##name args;                                                   \
		int rc = real_##name args;                                                         \
		ps_io_end(&c, op, 0, (uint64_t)(obj), (uint64_t)(asked), -(int64_t)rc);            \
		return rc;                                                                         \
	}

WAIT_WRAPPER(poll, PST_IO_POLL, int, (struct pollfd * fds, nfds_t n, int timeout),
	     (fds, n, timeout), n, timeout < 0 ? 0 : timeout)
WAIT_WRAPPER(ppoll, PST_IO_POLL, int,
	     (struct pollfd * fds, nfds_t n, const struct timespec *ts, const sigset_t *mask),
	     (fds, n, ts, mask), n, ts_ns(ts) / 1000000)
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
WAIT_WRAPPER(__poll_chk, PST_IO_POLL, int, (struct pollfd * fds, nfds_t n, int timeout, size_t fl),
	     (fds, n, timeout, fl), n, timeout < 0 ? 0 : timeout)
WAIT_WRAPPER(select, PST_IO_SELECT, int,
	     (int n, fd_set *__restrict r, fd_set *__restrict w, fd_set *__restrict e,
	      struct timeval *__restrict tv),
	     (n, r, w, e, tv), n,
	     tv ? (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000 : 0)
WAIT_WRAPPER(pselect, PST_IO_SELECT, int,
	     (int n, fd_set *__restrict r, fd_set *__restrict w, fd_set *__restrict e,
	      const struct timespec *__restrict ts, const __sigset_t *__restrict mask),
	     (n, r, w, e, ts, mask), n, ts_ns(ts) / 1000000)
WAIT_WRAPPER(epoll_wait, PST_IO_EPOLL_WAIT, int,
	     (int epfd, struct epoll_event *ev, int max, int timeout), (epfd, ev, max, timeout),
	     max, timeout < 0 ? 0 : timeout)
WAIT_WRAPPER(epoll_pwait, PST_IO_EPOLL_WAIT, int,
	     (int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask),
	     (epfd, ev, max, timeout, mask), max, timeout < 0 ? 0 : timeout)
WAIT_WRAPPER(nanosleep, PST_IO_SLEEP, int, (const struct timespec *req, struct timespec *rem),
	     (req, rem), 0, ts_ns(req))
WAIT_WRAPPER(usleep, PST_IO_SLEEP, int, (useconds_t us), (us), 0, (uint64_t)us * 1000)
WAIT_WRAPPER(sleep, PST_IO_SLEEP, unsigned int, (unsigned int s), (s), 0, (uint64_t)s * 1000000000u)
WAIT_WRAPPER_ERRNUM(clock_nanosleep, PST_IO_SLEEP,
		    (clockid_t clk, int flags, const struct timespec *req, struct timespec *rem),
		    (clk, flags, req, rem), 0, flags &TIMER_ABSTIME ? 0 : ts_ns(req))
WAIT_WRAPPER_ERRNUM(pthread_join, PST_IO_JOIN, (pthread_t th, void **ret), (th, ret), th, 0)
WAIT_WRAPPER(sem_wait, PST_IO_SEM_WAIT, int, (sem_t * s), (s), (uintptr_t)s, 0)
WAIT_WRAPPER(sem_timedwait, PST_IO_SEM_WAIT, int,
	     (sem_t *__restrict s, const struct timespec *__restrict ts), (s, ts), (uintptr_t)s, 0)
WAIT_WRAPPER(wait, PST_IO_WAITPID, pid_t, (int *status), (status), 0, 0)
WAIT_WRAPPER(waitpid, PST_IO_WAITPID, pid_t, (pid_t pid, int *status, int opts),
	     (pid, status, opts), pid, 0)
WAIT_WRAPPER(wait4, PST_IO_WAITPID, pid_t, (pid_t pid, int *status, int opts, struct rusage *ru),
	     (pid, status, opts, ru), pid, 0)

/* Condition variables: the default (2.3.2) versions, as programs bind. */
typedef int (*cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

static void *cond_sym(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
	return p ? p : dlsym(RTLD_NEXT, name);
}

PS_EXPORT int pthread_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
	static cond_wait_fn real;
	if (PS_UNLIKELY(!real))
		real = (cond_wait_fn)cond_sym("pthread_cond_wait");
	struct io_call c;
	if (!IO_BEGIN_WAIT(&c, PST_IO_COND_WAIT, (uintptr_t)cv))
		return real(cv, m);
	int rc = real(cv, m);
	ps_io_end(&c, PST_IO_COND_WAIT, 0, (uintptr_t)cv, 0, -(int64_t)rc);
	return rc;
}

PS_EXPORT int pthread_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *m,
				     const struct timespec *ts)
{
	static cond_timedwait_fn real;
	if (PS_UNLIKELY(!real))
		real = (cond_timedwait_fn)cond_sym("pthread_cond_timedwait");
	struct io_call c;
	if (!IO_BEGIN_WAIT(&c, PST_IO_COND_WAIT, (uintptr_t)cv))
		return real(cv, m, ts);
	int rc = real(cv, m, ts);
	ps_io_end(&c, PST_IO_COND_WAIT, 0, (uintptr_t)cv, 0, -(int64_t)rc);
	return rc;
}

/* --- locks: contention only --- */

#define LOCK_WRAPPER(name, tryname, op, T)                                                         \
	PS_EXPORT int name(T *l)                                                                   \
	{                                                                                          \
		IO_REAL(name);                                                                     \
		if (PS_LIKELY(!ps_io_on))                                                          \
			return real_##name(l);                                                     \
		IO_REAL(tryname);                                                                  \
		int rc = real_##tryname(l);                                                        \
		if (PS_LIKELY(rc != EBUSY))                                                        \
			return rc; /* taken (or an error the lock would give too) */               \
		struct io_call c;                                                                  \
		if (!IO_BEGIN_WAIT(&c, op, (uintptr_t)l))                                          \
			return real_##name(l);                                                     \
		rc = real_##name(l);                                                               \
		ps_io_end(&c, op, 0, (uintptr_t)l, 0, -(int64_t)rc);                               \
		return rc;                                                                         \
	}

LOCK_WRAPPER(pthread_mutex_lock, pthread_mutex_trylock, PST_IO_MUTEX, pthread_mutex_t)
LOCK_WRAPPER(pthread_rwlock_rdlock, pthread_rwlock_tryrdlock, PST_IO_RDLOCK, pthread_rwlock_t)
LOCK_WRAPPER(pthread_rwlock_wrlock, pthread_rwlock_trywrlock, PST_IO_WRLOCK, pthread_rwlock_t)
LOCK_WRAPPER(pthread_spin_lock, pthread_spin_trylock, PST_IO_SPIN, pthread_spinlock_t)

/* Resolve the lock functions before the program runs, so that a lock
 * taken inside dlsym's own allocation never needs dlsym. */
__attribute__((constructor(101))) static void resolve_locks(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	int saved = errno;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	errno = saved;
}
