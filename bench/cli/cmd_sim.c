/* meterbench sim: the simulated bench. `sim render ...` writes rendered dials and training crops
 * (cmd_sim_render.c); everything else is the simulator server (cmd_sim_serve.c). */
#include "cli.h"
#include "commands.h"

#include <string.h>

const char MTB_CMD_SIM_USAGE[] =
	"usage: meterbench sim render --kind digit|needle|dial --out DIR [options]\n"
	"\n"
	"  render   rendered dial faces and labelled training crops (meterbench sim render --help)\n"
	"\n"
	"The simulator server (meterbench sim --config FILE ...) is not part of this build yet.\n";

int mtb_cmd_sim(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return mtb_cmd_sim_render(argc - 1, argv + 1);
	return mtb_cli_error(MTB_EXIT_USAGE, "sim: only 'sim render' is available in this build (the simulator server is not built yet)");
}
