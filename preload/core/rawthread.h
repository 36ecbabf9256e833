/*
 * A thread that glibc does not know about (rawthread.c): made with a raw
 * clone(), so the process stays single-threaded in glibc's eyes and its
 * malloc keeps its lock-free path. Its code may use only raw system calls
 * (zsys.h) and code that touches no thread-local storage.
 */
#ifndef PROFSHIM_RAWTHREAD_H
#define PROFSHIM_RAWTHREAD_H

#include <sys/types.h>

/* Can raw threads be made on this machine (x86-64 only for now)? */
int pw_raw_thread_supported(void);
/* Start fn(arg) in a raw thread with every signal blocked. fn must not
 * return. Returns its thread id, or -errno. One at a time per process. */
long pw_raw_thread_start(void (*fn)(void *), void *arg);
/* The raw thread's id while it runs, else 0 (the kernel clears it when
 * the thread ends: CLONE_CHILD_CLEARTID). */
pid_t pw_raw_thread_tid(void);
/* In a forked child: the thread was not copied (its memory is reused). */
void pw_raw_thread_after_fork_child(void);

#endif
