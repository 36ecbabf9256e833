/* Known answer: loads core_plugin.so, calls plugin_mark (one marker in the
 * plugin), unloads it, then records one marker of its own. Prints the line
 * number the test expects for the plugin's marker. */
#include <dlfcn.h>
#include <stdio.h>

#include "profshim.h"

int main(int argc, char **argv)
{
	const char *lib = argc > 1 ? argv[1] : "./core_plugin.so";
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	void (*fn)(void) = (void (*)(void))dlsym(h, "plugin_mark");
	if (!fn)
		return 1;
	fn();
	dlclose(h);
	/* Something else in the place the plugin had. */
	void *h2 = dlopen("libm.so.6", RTLD_NOW);
	PROFSHIM_MARK("after-unload");
	if (h2)
		dlclose(h2);
	return 0;
}
