/*
 * Findings known answers: hot_function and hot_path.
 *   trigger: hot_spin burns 150 ms in its own code (about half the CPU);
 *            spread_work calls 20 helpers of 7.5 ms each (150 ms, half the
 *            CPU, no helper above 3%): a hot path, not a hot function.
 *   control: main calls 20 helpers of 15 ms each directly: no function
 *            holds 10% of its own, and main (all of it) is no path.
 * Prints "hot_spin_s X" and "spread_work_s Y" (thread CPU time measured).
 */
#include "find_common.h"

#define HELPER(n)                                                                                  \
	__attribute__((noinline)) void helper_##n(double ms)                                       \
	{                                                                                          \
		BURN_MS(ms + n * 1e-9);                                                            \
	}
HELPER(0)
HELPER(1)
HELPER(2) HELPER(3) HELPER(4) HELPER(5) HELPER(6) HELPER(7) HELPER(8) HELPER(9) HELPER(10)
    HELPER(11) HELPER(12) HELPER(13) HELPER(14) HELPER(15) HELPER(16) HELPER(17) HELPER(18)
	HELPER(19)

	    static void (*const helpers[20])(double) = {
		helper_0,  helper_1,  helper_2,	 helper_3,  helper_4,  helper_5,  helper_6,
		helper_7,  helper_8,  helper_9,	 helper_10, helper_11, helper_12, helper_13,
		helper_14, helper_15, helper_16, helper_17, helper_18, helper_19};

__attribute__((noinline)) void hot_spin(void)
{
	BURN_MS(150);
}

__attribute__((noinline)) void spread_work(void)
{
	for (int i = 0; i < 20; i++)
		helpers[i](7.5);
}

int main(int argc, char **argv)
{
	if (trigger_mode(argc, argv)) {
		double t0 = thread_cpu_s();
		hot_spin();
		double t1 = thread_cpu_s();
		spread_work();
		double t2 = thread_cpu_s();
		printf("hot_spin_s %.6f\nspread_work_s %.6f\n", t1 - t0, t2 - t1);
	} else {
		for (int i = 0; i < 20; i++)
			helpers[i](15);
	}
	return 0;
}
