/* Stress for the io recorder with every recorder on: threads contending
 * for one mutex and one rwlock, allocating, writing to a shared pipe and
 * signalling a condvar. It must finish with the right totals (no deadlock,
 * no lost update) and print what it did. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define THREADS 6
#define ROUNDS 3000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter, readers_seen;
static int pipefd[2];

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&m);
		counter++;
		char *p = malloc(32 + (size_t)(i % 64));
		p[0] = 1;
		free(p);
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&m);
		if (i % 3 == 0) {
			pthread_rwlock_wrlock(&rw);
			readers_seen++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			pthread_rwlock_unlock(&rw);
		}
		if (i % 100 == 0 && write(pipefd[1], "x", 1) != 1)
			abort();
	}
	return NULL;
}

int main(void)
{
	if (pipe(pipefd))
		return 1;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	char buf[4096];
	ssize_t n = read(pipefd[0], buf, sizeof(buf));
	printf("counter=%ld writers=%ld pipe_bytes=%zd\n", counter, readers_seen, n);
	return counter == (long)THREADS * ROUNDS ? 0 : 1;
}
