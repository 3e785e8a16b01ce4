"""Multi-process launching that also works on machines without GPUs.

detectron2's ``launch`` spawns one process per GPU with NCCL; the v0.6 release asserts CUDA in every worker (later
builds fall back to gloo, but no public attribute tells the two apart). So the choice is made on facts, not on
detectron2's version: with CUDA, detectron2's ``launch``; without CUDA and with more than one process, PyTorch's own
launcher ``torchrun`` (``python -m torch.distributed.run``) re-executes the current script, and the children join a
gloo process group from torchrun's environment variables.
"""
import logging
import os
import subprocess
import sys
from datetime import timedelta

import torch
import torch.distributed as dist
from detectron2.engine import launch
from detectron2.utils import comm

logger = logging.getLogger(__name__)

__all__ = ["launch_hoi", "under_torchrun"]


def under_torchrun():
    """True inside a process started by torchrun (it sets LOCAL_RANK, RANK, WORLD_SIZE and TORCHELASTIC_RUN_ID)."""
    return "TORCHELASTIC_RUN_ID" in os.environ and "LOCAL_RANK" in os.environ


def _join_torchrun_group(timeout):
    world_size = int(os.environ["WORLD_SIZE"])
    local_world_size = int(os.environ["LOCAL_WORLD_SIZE"])
    rank = int(os.environ["RANK"])
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend, timeout=timeout)
    # detectron2's comm.get_local_rank/get_local_size need the group of processes on this machine; its launch creates
    # it, torchrun does not. Later detectron2 builds expose comm.create_local_process_group for exactly this. v0.6 has
    # no public setter: its own launch (_distributed_worker) assigns the module variable comm._LOCAL_PROCESS_GROUP,
    # and we do the same, the only way to give v0.6's comm the same state under torchrun.
    if hasattr(comm, "create_local_process_group"):
        comm.create_local_process_group(local_world_size)
    else:
        machine_rank = rank // local_world_size
        for i in range(world_size // local_world_size):
            group = dist.new_group(list(range(i * local_world_size, (i + 1) * local_world_size)))
            if i == machine_rank:
                comm._LOCAL_PROCESS_GROUP = group
    comm.synchronize()


def launch_hoi(
    main_func,
    num_processes_per_machine,
    num_machines=1,
    machine_rank=0,
    dist_url=None,
    args=(),
    timeout=timedelta(minutes=30),
    script_argv=None,
):
    """Run ``main_func(*args)`` in ``num_processes_per_machine x num_machines`` processes.

    Args:
        main_func: called as ``main_func(*args)`` in every process.
        num_processes_per_machine (int): GPUs per machine, or CPU processes where there is no GPU.
        num_machines, machine_rank, dist_url: as detectron2's ``launch`` ("tcp://host:port", or "auto").
        args (tuple): arguments of main_func.
        timeout (timedelta): process-group timeout.
        script_argv (list[str] | None): the command line to re-execute under torchrun (default ``sys.argv``).

    Raises:
        subprocess.CalledProcessError: when a torchrun worker fails.
    """
    world_size = num_processes_per_machine * num_machines
    if under_torchrun():
        _join_torchrun_group(timeout)
        main_func(*args)
        return
    if world_size == 1 or torch.cuda.is_available():
        launch(main_func, num_processes_per_machine, num_machines, machine_rank, dist_url, args=args, timeout=timeout)
        return
    argv = list(script_argv if script_argv is not None else sys.argv)
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={num_processes_per_machine}",
           f"--nnodes={num_machines}", f"--node_rank={machine_rank}"]
    if dist_url and dist_url != "auto" and dist_url.startswith("tcp://"):
        host, port = dist_url[len("tcp://"):].rsplit(":", 1)
        cmd += [f"--master_addr={host}", f"--master_port={port}"]
    elif num_machines == 1:
        cmd += ["--standalone"]
    # printed, not logged: no logger is set up in this launching process (each worker sets up its own)
    print(f"ggnet_d2.engine.launch: no CUDA device, so {world_size} CPU processes (gloo backend) are started with "
          f"PyTorch's torchrun ({num_processes_per_machine} per machine on {num_machines} machine(s); detectron2 "
          f"v0.6's launch needs CUDA for more than one process):\n  {' '.join(cmd + argv)}", flush=True)
    subprocess.run(cmd + argv, check=True)
