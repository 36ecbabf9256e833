// CPU sampler test: a hot loop of C++ new and delete (argv[1] rounds of
// 1000 blocks, default 40000), where the shim's operator new/delete and
// malloc/free wrappers sit between the program and glibc on every call.
// Samples in glibc's allocator must keep their frames; only the wrappers'
// own instructions are the profiler's.
#include <cstdio>
#include <cstdlib>
#include <vector>

struct Node {
	long a[4];
};

__attribute__((noinline)) static void churn(std::vector<Node *> &v)
{
	for (auto &p : v) {
		delete p;
		p = new Node();
		p->a[0] = 1;
	}
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? std::atol(argv[1]) : 40000;
	std::vector<Node *> v(1000);
	for (auto &p : v)
		p = new Node();
	for (long i = 0; i < rounds; i++)
		churn(v);
	long sum = 0;
	for (auto p : v) {
		sum += p->a[0];
		delete p;
	}
	std::printf("sum %ld\n", sum);
	return 0;
}
