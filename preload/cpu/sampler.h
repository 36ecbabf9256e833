/* The CPU sampler's interface to the signal-function wrappers. */
#ifndef PS_SAMPLER_H
#define PS_SAMPLER_H

#include <signal.h>
#include <stdbool.h>

/* The signal the sampler uses now, 0 if none. */
int ps_cpu_signal(void);
/* The program is about to set the disposition of sig: if it is the
 * sampler's, move the sampler to another signal first. */
void ps_cpu_signal_taken(int sig);
/* Is fn the sampler's handler (hidden from the program's queries)? */
bool ps_cpu_is_handler(const void *fn);
/* sigaction of libc, bypassing the wrapper. */
int ps_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* A signal with the default action and no handler (libc's view, past the
 * shim's sigaction wrapper). */
int ps_signal_is_free(int sig);
/* A real-time signal nobody uses, from the top down (programs and
 * libraries usually take theirs from SIGRTMIN up); 0 if none. The RSS
 * timer takes one first, the CPU sampler then skips it (it has a handler). */
int ps_free_rt_signal(void);
/* Block sig in this thread, run stop() (may be NULL), take any pending sig
 * off (it would otherwise reach a handler that is gone, or kill the new
 * image after exec), and restore the mask. */
void ps_signal_quiesce(int sig, void (*stop)(void));

/* In a new thread (sigmask.c): make sig deliverable, and remember whether
 * the program meant it blocked there (its mask came with it blocked). */
void ps_sigmask_thread_start(int sig);

#endif
