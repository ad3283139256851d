# JupyterLab's configuration for `npm run lab` (scripts/lab.sh passes it with --config): the tslab
# (TypeScript) kernel is the only one offered *and* the only one that starts. allowed_kernelspecs
# alone only hides the others from the launcher: jupyter_client's get_kernel_spec still finds the
# venv's ipykernel ("python3"), so `POST /api/kernels {"name": "python3"}` would start one.
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

ALLOWED = {"tslab"}


class AllowListKernelSpecManager(KernelSpecManager):
    """A kernel spec manager that refuses every kernel not in allowed_kernelspecs, by any route."""

    def get_kernel_spec(self, kernel_name):
        if kernel_name.lower() not in self.allowed_kernelspecs:
            raise NoSuchKernel(kernel_name)
        return super().get_kernel_spec(kernel_name)


c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
c.ServerApp.kernel_spec_manager_class = AllowListKernelSpecManager
c.KernelSpecManager.allowed_kernelspecs = ALLOWED
c.KernelSpecManager.ensure_native_kernel = False
c.MappingKernelManager.default_kernel_name = "tslab"
