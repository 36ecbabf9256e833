/*
 * Known answers: ROUNDS times (default 100) main calls thrower_outer() ->
 * thrower_mid() -> thrower_leaf(), which throws; the exception goes
 * through the instrumented frames and is caught in main, which then calls
 * after_catch(). Exactly ROUNDS calls of each of the four functions.
 */
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

static volatile int sink;

__attribute__((noinline)) void thrower_leaf(int i)
{
	sink += i;
	throw std::runtime_error("boom");
}

__attribute__((noinline)) void thrower_mid(int i)
{
	thrower_leaf(i);
	sink++;
}

__attribute__((noinline)) void thrower_outer(int i)
{
	thrower_mid(i);
	sink++;
}

__attribute__((noinline)) void after_catch(void)
{
	sink++;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	int caught = 0;
	for (int i = 0; i < rounds; i++) {
		try {
			thrower_outer(i);
		} catch (const std::exception &) {
			caught++;
		}
		after_catch();
	}
	std::printf("caught=%d\n", caught);
	return 0;
}
