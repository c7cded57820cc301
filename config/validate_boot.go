package config

// bootChoices checks a profile's loader and boot_method.
func (v *validator) bootChoices(p string, pr *Profile) {
	switch pr.Loader {
	case "", LoaderIPXE, LoaderAuto:
	case LoaderPXELINUX:
		if pr.Kernel == "" {
			v.errorf(keyPath(p, "loader"), "pxelinux needs a kernel profile (PXELINUX has no menu, local or shell kind here)")
		}
	case LoaderGRUB:
		v.grubProfile(p, pr)
	default:
		v.badLoader(keyPath(p, "loader"), pr.Loader)
	}
	v.bootMethod(keyPath(p, "boot_method"), pr.BootMethod)
}

// bootMethod checks a boot_method value.
func (v *validator) bootMethod(p, m string) {
	switch m {
	case "", BootMethodPXE, BootMethodHTTP:
	default:
		v.errorf(p, "%q is not a boot method; use %q (TFTP) or %q (UEFI HTTP Boot)", m, BootMethodPXE, BootMethodHTTP)
	}
}
