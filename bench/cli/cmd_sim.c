/* meterbench sim: the simulated bench. `sim render ...` writes rendered dials and training crops
 * (cmd_sim_render.c); `sim can ...` verifies a simulated measuring can (cmd_sim_can.c);
 * everything else is the simulator server (cmd_sim_serve.c). */
#include "cli.h"
#include "commands.h"

#include <string.h>

int mtb_cmd_sim(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return mtb_cmd_sim_render(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "can") == 0)
		return mtb_cmd_sim_can(argc - 1, argv + 1);
	return mtb_cmd_sim_serve(argc, argv);
}
