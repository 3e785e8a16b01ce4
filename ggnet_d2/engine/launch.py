"""Multi-process launching that also works on machines without GPUs.

detectron2's ``launch`` spawns one process per GPU with NCCL. Builds of detectron2 newer than v0.6 fall back to gloo on
CPU; the v0.6 release asserts CUDA. Where ``launch`` cannot run CPU processes, ``launch_hoi`` re-executes the current
script under PyTorch's own ``torchrun`` (``python -m torch.distributed.run``) with the gloo backend, and the children
join the process group from torchrun's environment variables.
"""
import inspect
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

__all__ = ["launch_hoi", "under_torchrun", "detectron2_launch_supports_cpu"]


def detectron2_launch_supports_cpu():
    """True when the installed detectron2's ``launch`` starts gloo workers on machines without CUDA."""
    from detectron2.engine import launch as launch_module

    source = inspect.getsource(sys.modules[launch_module.__module__])
    return "GLOO" in source.upper() and "assert torch.cuda.is_available()" not in source


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
    # detectron2's comm needs the group of processes on this machine (launch creates it; torchrun does not).
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
    if world_size == 1 or torch.cuda.is_available() or detectron2_launch_supports_cpu():
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
    logger.info("detectron2's launch cannot start CPU processes; using torchrun: %s", " ".join(cmd + argv))
    subprocess.run(cmd + argv, check=True)
